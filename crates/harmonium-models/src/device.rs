//! Choosing the compute device at run time: `flex` (CPU), `cuda:N`, `wgpu`.

use burn::tensor::{Device, Tensor};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DeviceError {
    #[error("unknown device '{0}': expected one of flex, cuda, cuda:N, wgpu")]
    Unknown(String),
    #[error(
        "device '{0}' needs harmonium built with the '{1}' cargo feature (cargo build --release --features {1})"
    )]
    NotCompiled(String, &'static str),
    #[error("device '{0}' is not usable on this machine: {1}")]
    Unavailable(String, String),
    #[error(
        "{what} ({rows} × {cols} floats, {mb:.1} MB) do not fit in one buffer of this device \
         (at most {limit_mb:.1} MB: the adapter's max_storage_buffer_binding_size); use fewer \
         examples (dataset.train_size, or pretrain.data: labelled) or device: flex"
    )]
    TooLarge {
        what: String,
        rows: usize,
        cols: usize,
        mb: f64,
        limit_mb: f64,
    },
}

/// The largest tensor, in bytes, that `device` holds in one buffer, where there is such a
/// limit to state: on `wgpu` the adapter's `max_storage_buffer_binding_size` (128 MiB on
/// Mesa's lavapipe, and WebGPU's default); `None` on `flex` and `cuda`.
pub fn largest_buffer(device: &Device) -> Option<u64> {
    if !format!("{device:?}").to_ascii_lowercase().contains("wgpu") {
        return None;
    }
    adapter_largest_buffer()
}

#[cfg(feature = "wgpu")]
fn adapter_largest_buffer() -> Option<u64> {
    use burn::tensor::wgpu::wgpu;
    static LIMIT: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    *LIMIT.get_or_init(|| {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            ..Default::default()
        }))
        .ok()?;
        let limits = adapter.limits();
        Some((limits.max_storage_buffer_binding_size as u64).min(limits.max_buffer_size as u64))
    })
}

#[cfg(not(feature = "wgpu"))]
fn adapter_largest_buffer() -> Option<u64> {
    None
}

/// Polls a future that completes without waiting on anything else (an adapter request).
#[cfg(feature = "wgpu")]
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::yield_now();
    }
}

/// Whether a `rows` × `cols` matrix of floats (`what`, for the message) fits in one buffer of
/// `device`: an error that says what to do instead of a failed allocation deep in training.
pub fn check_fits(
    device: &Device,
    rows: usize,
    cols: usize,
    what: &str,
) -> Result<(), DeviceError> {
    let Some(limit) = largest_buffer(device) else {
        return Ok(());
    };
    let bytes = rows as u64 * cols as u64 * 4;
    if bytes <= limit {
        return Ok(());
    }
    Err(DeviceError::TooLarge {
        what: what.into(),
        rows,
        cols,
        mb: bytes as f64 / 1e6,
        limit_mb: limit as f64 / 1e6,
    })
}

/// Parses a device name and checks that the device can run a small computation.
///
/// An unavailable device is reported as an error rather than a panic later in training.
pub fn parse_device(name: &str) -> Result<Device, DeviceError> {
    let name = name.trim();
    let device = build(name)?;
    probe(name, &device)?;
    Ok(device)
}

fn build(name: &str) -> Result<Device, DeviceError> {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "flex" | "cpu" => Ok(Device::flex()),
        "wgpu" => wgpu(name),
        s if s == "cuda" || s.starts_with("cuda:") => {
            let index = match s.strip_prefix("cuda:") {
                None => 0,
                Some(i) => i
                    .parse::<usize>()
                    .map_err(|_| DeviceError::Unknown(name.into()))?,
            };
            cuda(name, index)
        }
        _ => Err(DeviceError::Unknown(name.into())),
    }
}

#[cfg(feature = "wgpu")]
fn wgpu(_name: &str) -> Result<Device, DeviceError> {
    Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice))
}

#[cfg(not(feature = "wgpu"))]
fn wgpu(name: &str) -> Result<Device, DeviceError> {
    Err(DeviceError::NotCompiled(name.into(), "wgpu"))
}

#[cfg(feature = "cuda")]
fn cuda(_name: &str, index: usize) -> Result<Device, DeviceError> {
    Ok(Device::cuda(index))
}

#[cfg(not(feature = "cuda"))]
fn cuda(name: &str, _index: usize) -> Result<Device, DeviceError> {
    Err(DeviceError::NotCompiled(name.into(), "cuda"))
}

/// Runs a 2×2 matmul and reads it back; a backend that cannot start panics inside burn, which is
/// caught here and turned into an error.
fn probe(name: &str, device: &Device) -> Result<(), DeviceError> {
    let device = device.clone();
    let result = std::panic::catch_unwind(move || {
        let a = Tensor::<2>::ones([2, 2], &device);
        let s: f32 = a.clone().matmul(a).sum().into_scalar();
        s
    });
    match result {
        Ok(s) if (s - 8.0).abs() < 1e-4 => Ok(()),
        Ok(s) => Err(DeviceError::Unavailable(
            name.into(),
            format!("self-test gave {s}, expected 8"),
        )),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "the backend panicked while starting".into());
            Err(DeviceError::Unavailable(name.into(), msg))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use burn::tensor::TensorData;

    /// `[1 2 3; 4 5 6] · [7 8; 9 10; 11 12] = [58 64; 139 154]` on the device `flex` (and its
    /// other name `cpu`) gives.
    #[test]
    fn flex_device_runs_a_matmul() {
        for name in ["flex", " CPU "] {
            let device = parse_device(name).unwrap();
            let matrix = |values: [f32; 6], shape: [usize; 2]| {
                Tensor::<2>::from_data(TensorData::new(values.to_vec(), shape), &device)
            };
            let a = matrix([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]);
            let b = matrix([7.0, 8.0, 9.0, 10.0, 11.0, 12.0], [3, 2]);
            let product = a.matmul(b);
            assert_eq!(product.dims(), [2, 2]);
            assert_eq!(
                crate::eval::to_vec(product),
                vec![58.0, 64.0, 139.0, 154.0],
                "{name}"
            );
        }
    }

    #[test]
    fn unknown_device_names_the_choices() {
        let err = parse_device("tpu").unwrap_err();
        assert!(err.to_string().contains("flex, cuda"), "{err}");
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn cuda_without_the_feature_says_how_to_build_it() {
        let err = parse_device("cuda:0").unwrap_err();
        assert_eq!(err, DeviceError::NotCompiled("cuda:0".into(), "cuda"));
    }
}

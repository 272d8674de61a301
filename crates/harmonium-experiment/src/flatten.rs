//! Dotted paths into nested configuration values.

use std::collections::BTreeMap;

use serde_json::Value;

/// Flattens objects into `a.b.c` keys; arrays and scalars are leaves.
pub fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::Null => {}
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

/// Sets the value at a dotted path in a YAML mapping, creating intermediate mappings where a key
/// is absent (an optional section the base file leaves out). A mapping value set on a mapping is
/// merged into it key by key, so `rbm: [{cd_k: 1}, {cd_k: 1, persistent: true}]` sweeps variants
/// of a section. Whether the path names a real field is decided afterwards by deserializing with
/// `deny_unknown_fields`.
pub fn set_path(
    root: &mut serde_yaml::Value,
    path: &str,
    value: serde_yaml::Value,
) -> Result<(), String> {
    let mut node = root;
    let parts: Vec<&str> = path.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!("'{path}' is not a dotted path"));
    }
    for (i, part) in parts.iter().enumerate() {
        let key = serde_yaml::Value::String(part.to_string());
        if node.is_null() {
            *node = serde_yaml::Value::Mapping(Default::default());
        }
        let map = match node {
            serde_yaml::Value::Mapping(m) => m,
            _ => {
                return Err(format!(
                    "'{path}': '{}' is not a section, so it has no field '{part}'",
                    parts[..i].join(".")
                ));
            }
        };
        if i == parts.len() - 1 {
            match (map.get_mut(&key), value) {
                (Some(serde_yaml::Value::Mapping(existing)), serde_yaml::Value::Mapping(over)) => {
                    for (k, v) in over {
                        let sub = k
                            .as_str()
                            .map(str::to_string)
                            .ok_or_else(|| format!("'{path}': keys must be text"))?;
                        let mut node = serde_yaml::Value::Mapping(std::mem::take(existing));
                        set_path(&mut node, &sub, v)?;
                        if let serde_yaml::Value::Mapping(m) = node {
                            *existing = m;
                        }
                    }
                }
                (_, value) => {
                    map.insert(key, value);
                }
            }
            return Ok(());
        }
        node = map.entry(key).or_insert(serde_yaml::Value::Null);
    }
    unreachable!("path has at least one part")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_path_creates_missing_sections_and_refuses_scalars() {
        let mut v: serde_yaml::Value = serde_yaml::from_str("a: {b: 1}\nc: 2").unwrap();
        set_path(&mut v, "a.b", 5.into()).unwrap();
        set_path(&mut v, "d.e", 6.into()).unwrap();
        assert_eq!(v["a"]["b"], serde_yaml::Value::from(5));
        assert_eq!(v["d"]["e"], serde_yaml::Value::from(6));
        assert!(
            set_path(&mut v, "c.x", 1.into())
                .unwrap_err()
                .contains("not a section")
        );
        assert!(set_path(&mut v, "a..b", 1.into()).is_err());
    }

    #[test]
    fn a_mapping_value_merges_into_a_section() {
        let mut v: serde_yaml::Value =
            serde_yaml::from_str("rbm: {cd_k: 1, epochs: 5, momentum: {start: 0.5}}").unwrap();
        let over: serde_yaml::Value =
            serde_yaml::from_str("{cd_k: 3, persistent: true, momentum: {final: 0.8}}").unwrap();
        set_path(&mut v, "rbm", over).unwrap();
        let want: serde_yaml::Value = serde_yaml::from_str(
            "rbm: {cd_k: 3, epochs: 5, momentum: {start: 0.5, final: 0.8}, persistent: true}",
        )
        .unwrap();
        assert_eq!(v, want);
    }

    #[test]
    fn flatten_gives_dotted_keys() {
        let v = serde_json::json!({"a": {"b": 1, "c": [1, 2]}, "d": "x", "e": null});
        let mut out = BTreeMap::new();
        flatten("", &v, &mut out);
        assert_eq!(
            out.keys().cloned().collect::<Vec<_>>(),
            vec!["a.b", "a.c", "d"]
        );
    }
}

//! TIMIT's phone set, the 61 → 39 folding used for scoring, and the standard speaker lists.
//!
//! Training uses the 61 phone labels of the `.PHN` files; error rates are reported after folding
//! them into 39 classes (Lee & Hon 1989, as in Mohamed, Dahl & Hinton 2012):
//!
//! ```text
//! aa ao → aa      ah ax ax-h → ah    er axr → er     hh hv → hh      ih ix → ih
//! l el → l        m em → m           n en nx → n     ng eng → ng     sh zh → sh
//! uw ux → uw      h# pau epi bcl dcl gcl pcl tcl kcl → sil           q → (ignored)
//! ```
//!
//! and every other phone is its own class.

/// The 61 TIMIT phones, alphabetically; a label is an index into this list.
pub const PHONES_61: [&str; 61] = [
    "aa", "ae", "ah", "ao", "aw", "ax", "ax-h", "axr", "ay", "b", "bcl", "ch", "d", "dcl", "dh",
    "dx", "eh", "el", "em", "en", "eng", "epi", "er", "ey", "f", "g", "gcl", "h#", "hh", "hv",
    "ih", "ix", "iy", "jh", "k", "kcl", "l", "m", "n", "ng", "nx", "ow", "oy", "p", "pau", "pcl",
    "q", "r", "s", "sh", "t", "tcl", "th", "uh", "uw", "ux", "v", "w", "y", "z", "zh",
];

/// The 39 scoring classes, alphabetically; [`fold_39`] maps into indices of this list.
pub const PHONES_39: [&str; 39] = [
    "aa", "ae", "ah", "aw", "ay", "b", "ch", "d", "dh", "dx", "eh", "er", "ey", "f", "g", "hh",
    "ih", "iy", "jh", "k", "l", "m", "n", "ng", "ow", "oy", "p", "r", "s", "sh", "sil", "t", "th",
    "uh", "uw", "v", "w", "y", "z",
];

/// The 24 speakers of the core test set (2 men and 1 woman from each dialect region).
pub const CORE_TEST_SPEAKERS: [&str; 24] = [
    "MDAB0", "MWBT0", "FELC0", "MTAS1", "MWEW0", "FPAS0", "MJMP0", "MLNT0", "FPKT0", "MLLL0",
    "MTLS0", "FJLM0", "MBPM0", "MKLT0", "FNLP0", "MCMJ0", "MJDH0", "FMGD0", "MGRT0", "MNJM0",
    "FDHC0", "MJLN0", "MPAM0", "FMLD0",
];

/// The 50-speaker development set drawn from the TIMIT test speakers outside the core test set
/// (the list used by the Kaldi TIMIT recipe and most DNN papers since Mohamed et al.).
pub const DEV_SPEAKERS: [&str; 50] = [
    "FAKS0", "FDAC1", "FJEM0", "MGWT0", "MJAR0", "MMDB1", "MMDM2", "MPDF0", "FCMH0", "FKMS0",
    "MBDG0", "MBWM0", "MCSH0", "FADG0", "FDMS0", "FEDW0", "MGJF0", "MGLB0", "MRTK0", "MTAA0",
    "MTDT0", "MTHC0", "MWJG0", "FNMR0", "FREW0", "FSEM0", "MBNS0", "MMJR0", "MDLS0", "MDLF0",
    "MDVC0", "MERS0", "FMAH0", "FDRW0", "MRCS0", "MRJM4", "FCAL1", "MMWH0", "FJSJ0", "MAJC0",
    "MJSW0", "MREB0", "FGJD0", "FJMG0", "MROA0", "MTEB0", "MJFC0", "MRJR0", "FMML0", "MRWS1",
];

/// The label (index into [`PHONES_61`]) of a phone name, case-insensitively.
pub fn phone_index(name: &str) -> Option<u32> {
    let lower = name.to_ascii_lowercase();
    PHONES_61.iter().position(|p| *p == lower).map(|i| i as u32)
}

/// The label of the glottal stop `q`.
pub fn glottal_stop() -> u32 {
    phone_index("q").expect("q is a TIMIT phone")
}

/// The scoring class (index into [`PHONES_39`]) of a 61-phone label; `None` for `q`, which is
/// ignored in scoring, and for labels out of range.
pub fn fold_39(label: u32) -> Option<u32> {
    let phone = *PHONES_61.get(label as usize)?;
    let folded = match phone {
        "q" => return None,
        "ao" => "aa",
        "ax" | "ax-h" => "ah",
        "axr" => "er",
        "hv" => "hh",
        "ix" => "ih",
        "el" => "l",
        "em" => "m",
        "en" | "nx" => "n",
        "eng" => "ng",
        "zh" => "sh",
        "ux" => "uw",
        "h#" | "pau" | "epi" | "bcl" | "dcl" | "gcl" | "pcl" | "tcl" | "kcl" => "sil",
        other => other,
    };
    PHONES_39
        .iter()
        .position(|p| *p == folded)
        .map(|i| i as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn folding_maps_61_phones_onto_39_classes_and_ignores_q() {
        let images: BTreeSet<u32> = (0..61).filter_map(fold_39).collect();
        assert_eq!(images.len(), 39, "every scoring class is reached");
        assert_eq!((0..61).filter(|&l| fold_39(l).is_none()).count(), 1);
        assert_eq!(fold_39(glottal_stop()), None);
        let f = |p: &str| PHONES_39[fold_39(phone_index(p).unwrap()).unwrap() as usize];
        for (from, to) in [
            ("h#", "sil"),
            ("pau", "sil"),
            ("epi", "sil"),
            ("bcl", "sil"),
            ("kcl", "sil"),
            ("ax-h", "ah"),
            ("ix", "ih"),
            ("nx", "n"),
            ("eng", "ng"),
            ("zh", "sh"),
            ("ao", "aa"),
            ("axr", "er"),
            ("ux", "uw"),
            ("el", "l"),
            ("em", "m"),
            ("hv", "hh"),
            ("dx", "dx"),
            ("z", "z"),
        ] {
            assert_eq!(f(from), to, "{from}");
        }
        assert_eq!(fold_39(61), None);
        assert_eq!(phone_index("H#"), Some(27));
    }

    #[test]
    fn speaker_lists_are_distinct_and_the_core_set_has_three_per_region() {
        let core: BTreeSet<&str> = CORE_TEST_SPEAKERS.into_iter().collect();
        let dev: BTreeSet<&str> = DEV_SPEAKERS.into_iter().collect();
        assert_eq!((core.len(), dev.len()), (24, 50));
        assert!(core.is_disjoint(&dev));
        let women = CORE_TEST_SPEAKERS
            .iter()
            .filter(|s| s.starts_with('F'))
            .count();
        assert_eq!(women, 8, "one woman per dialect region");
    }
}

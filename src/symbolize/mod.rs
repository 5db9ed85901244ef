//! Naming addresses the profile left unnamed. Best effort and safe to
//! repeat: locations that already have names are never touched, and an
//! address nobody can name stays an address (with a warning from the caller).

pub mod pclntab;
pub mod remote;

use std::collections::{BTreeSet, HashMap};

use crate::profile::{Function, Line, Profile};

/// Addresses of locations without any function name, in order; Go's
/// all-ones padding and address 0 are left out (they name nothing).
pub fn unnamed_addresses(profile: &Profile) -> Vec<u64> {
    let addresses: BTreeSet<u64> = profile
        .locations
        .iter()
        .filter(|l| !matches!(l.address, 0 | u64::MAX))
        .filter(|l| l.lines.iter().all(|line| line.function.is_none()))
        .map(|l| l.address)
        .collect();
    addresses.into_iter().collect()
}

/// Gives each unnamed location the function `names` has for its address.
/// Returns how many locations got a name.
pub fn apply_names(profile: &mut Profile, names: &HashMap<u64, String>) -> usize {
    let mut function_of_name: HashMap<String, usize> = HashMap::new();
    let mut named = 0;
    for index in 0..profile.locations.len() {
        let location = &profile.locations[index];
        if location.lines.iter().any(|line| line.function.is_some()) {
            continue;
        }
        let Some(name) = names.get(&location.address) else {
            continue;
        };
        let function = *function_of_name.entry(name.clone()).or_insert_with(|| {
            profile.functions.push(Function {
                name: name.clone(),
                system_name: name.clone(),
                ..Function::default()
            });
            profile.functions.len() - 1
        });
        profile.locations[index].lines = vec![Line {
            function: Some(function),
            line: 0,
        }];
        named += 1;
    }
    named
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Location;

    #[test]
    fn only_unnamed_locations_get_names() {
        let mut profile = Profile {
            functions: vec![Function {
                name: "main.main".into(),
                ..Function::default()
            }],
            locations: vec![
                Location {
                    address: 0x10,
                    lines: vec![Line {
                        function: Some(0),
                        line: 3,
                    }],
                    ..Location::default()
                },
                Location {
                    address: 0x20,
                    ..Location::default()
                },
                Location {
                    address: u64::MAX,
                    ..Location::default()
                },
            ],
            ..Profile::default()
        };
        assert_eq!(unnamed_addresses(&profile), vec![0x20]);
        let names = HashMap::from([(0x10, "wrong".to_owned()), (0x20, "main.work".to_owned())]);
        assert_eq!(apply_names(&mut profile, &names), 1);
        assert_eq!(profile.functions[1].name, "main.work");
        assert_eq!(profile.locations[0].lines[0].function, Some(0));
        assert!(unnamed_addresses(&profile).is_empty());
    }
}

//! Cloudflare's limits on a Worker's variables (plain `[vars]` and secrets alike): each value at
//! most 5 KB, and at most 64 of them on the Workers Free plan (128 on Paid) —
//! <https://developers.cloudflare.com/workers/platform/limits/#environment-variables>.
//! `wrangler dev` enforces neither, so a configuration that runs locally can fail to deploy;
//! the Worker build and `heartbeat-host check --cloudflare` check them first. Values are
//! measured, never shown.

/// Bytes one variable's value may hold.
pub const MAX_VARIABLE_BYTES: usize = 5 * 1024;
/// Variables one Worker may have on the Free plan.
pub const MAX_VARIABLES_FREE: usize = 64;

/// Why a Worker with these variables cannot be deployed on the Free plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error(
        "{name} is {bytes} bytes, over Cloudflare's {MAX_VARIABLE_BYTES}-byte limit for a Worker variable"
    )]
    TooLarge { name: String, bytes: usize },
    #[error("the Worker would have {count} variables, over the Free plan's {MAX_VARIABLES_FREE}")]
    TooMany { count: usize },
}

/// Check a Worker's variables, given as (name, value length in bytes); every problem, in order.
pub fn check(variables: &[(String, usize)]) -> Vec<LimitError> {
    let mut problems: Vec<LimitError> = variables
        .iter()
        .filter(|(_, bytes)| *bytes > MAX_VARIABLE_BYTES)
        .map(|(name, bytes)| LimitError::TooLarge {
            name: name.clone(),
            bytes: *bytes,
        })
        .collect();
    if variables.len() > MAX_VARIABLES_FREE {
        problems.push(LimitError::TooMany {
            count: variables.len(),
        });
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_of_exactly_five_kilobytes_fits_and_one_byte_more_does_not() {
        assert!(check(&[("API_KEYS".into(), MAX_VARIABLE_BYTES)]).is_empty());
        assert_eq!(
            check(&[("API_KEYS".into(), MAX_VARIABLE_BYTES + 1)]),
            [LimitError::TooLarge {
                name: "API_KEYS".into(),
                bytes: 5121
            }]
        );
        assert_eq!(
            LimitError::TooLarge {
                name: "API_KEYS".into(),
                bytes: 5121
            }
            .to_string(),
            "API_KEYS is 5121 bytes, over Cloudflare's 5120-byte limit for a Worker variable"
        );
    }

    #[test]
    fn sixty_four_variables_fit_the_free_plan_and_sixty_five_do_not() {
        let vars = |n: usize| -> Vec<(String, usize)> {
            (0..n).map(|i| (format!("VAR_{i}"), 1)).collect()
        };
        assert!(check(&vars(64)).is_empty());
        assert_eq!(check(&vars(65)), [LimitError::TooMany { count: 65 }]);
    }
}

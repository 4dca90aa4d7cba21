//! `conformance list`: the case instances of the suites, as text or JSON.

use crate::exit;
use crate::fixture;
use clap::Args;

/// Options of `list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The suites to list.
    #[command(flatten)]
    pub fixtures: fixture::builtin::FixtureArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

/// Output formats of `list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// One line per case.
    Text,
    /// A JSON array.
    Json,
}

/// `conformance list`.
pub fn list(args: &ListArgs) -> u8 {
    let suites = match super::common::load_suites(&args.fixtures) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let instances = suites.iter().flat_map(|s| &s.instances);
    match args.format {
        ListFormat::Text => {
            for i in instances {
                let spec = i
                    .spec
                    .iter()
                    .map(|s| match s {
                        fixture::SpecRef::Requirement(id) => id.clone(),
                        fixture::SpecRef::Anchor { anchor, .. } => anchor.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                println!(
                    "{:<70} {:<9} {spec}",
                    i.id,
                    format!("{:?}", i.level).to_uppercase()
                );
            }
        }
        ListFormat::Json => {
            let items: Vec<_> = instances
                .map(|i| {
                    serde_json::json!({
                        "id": i.id,
                        "suite": i.suite,
                        "title": i.title,
                        "level": format!("{:?}", i.level).to_uppercase(),
                        "official": i.official,
                        "requires": i.requires,
                        "serial": i.serial,
                        "fixture": format!("{}:{}", i.file.display(), i.line),
                    })
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&items).unwrap_or_default()
            );
        }
    }
    exit::OK
}

//! `grassroots staffing match`: read people and posts from CSV files, place people for the greatest total fit.
//!
//! The matching itself is `cadre::staffing` (pure); this file reads the CSVs — every bad value is reported with its
//! file, line and field — and prints the table or the JSON.

use anyhow::{Context, Result, bail};
use cadre::staffing::{Location, Person, Post, Shortfall, Staffing, match_people_to_posts};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

#[derive(clap::Subcommand, Debug)]
pub enum StaffingCommand {
    /// Place people in posts for the greatest total fit (10 × shared skills − km / 10), exactly.
    Match(MatchArgs),
}

/// Arguments of `grassroots staffing match`.
#[derive(clap::Args, Debug)]
pub struct MatchArgs {
    /// People CSV: `id,unit,lat,lon,skills` (skills separated by `;`).
    #[arg(long)]
    pub people: PathBuf,
    /// Posts CSV: `id,unit,lat,lon,skills,places`.
    #[arg(long)]
    pub posts: PathBuf,
    /// Farthest a person may be placed from home, in great-circle km.
    #[arg(long, default_value_t = 50.0)]
    pub max_km: f64,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

pub fn run(command: &StaffingCommand) -> Result<()> {
    match command {
        StaffingCommand::Match(args) => match_command(args),
    }
}

/// Who a row is: the matcher knows people and posts only by their index.
struct Identity {
    id: String,
    unit: String,
}

fn match_command(args: &MatchArgs) -> Result<()> {
    let (people, person_ids): (Vec<Person>, Vec<Identity>) = read_rows(&args.people, false)?
        .into_iter()
        .map(|row| {
            (
                Person {
                    location: row.location,
                    skills: row.skills,
                },
                Identity {
                    id: row.id,
                    unit: row.unit,
                },
            )
        })
        .unzip();
    let (posts, post_ids): (Vec<Post>, Vec<Identity>) = read_rows(&args.posts, true)?
        .into_iter()
        .map(|row| {
            let post = Post {
                location: row.location,
                skills: row.skills,
                places: row.places,
            };
            (
                post,
                Identity {
                    id: row.id,
                    unit: row.unit,
                },
            )
        })
        .unzip();
    let staffing = match_people_to_posts(&people, &posts, args.max_km).context("--max-km")?;
    let places: u64 = posts.iter().map(|post| u64::from(post.places)).sum();
    if args.json {
        print_json(&staffing, &person_ids, &post_ids, places)
    } else {
        print_tables(&staffing, &person_ids, &post_ids, places);
        Ok(())
    }
}

struct CsvRow {
    id: String,
    unit: String,
    location: Location,
    skills: Vec<String>,
    places: u32,
}

/// Reads `id,unit,lat,lon,skills[,places]`, naming the file, line and field of the first bad value.
fn read_rows(path: &Path, with_places: bool) -> Result<Vec<CsvRow>> {
    let name = path.display().to_string();
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("reading {name}"))?;
    let headers = reader
        .headers()
        .with_context(|| format!("{name}: reading the header"))?
        .clone();
    let mut wanted = vec!["id", "unit", "lat", "lon", "skills"];
    if with_places {
        wanted.push("places");
    }
    let mut columns = Vec::new();
    for field in &wanted {
        match headers.iter().position(|h| h == *field) {
            Some(at) => columns.push(at),
            None => bail!("{name} line 1: no `{field}` column (expected {})", wanted.join(",")),
        }
    }
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("{name}: reading"))?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |index: usize| record.get(columns[index]).unwrap_or("");
        let number = |index: usize| -> Result<f64> {
            let text = field(index);
            text.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .with_context(|| format!("{name} line {line}, field {}: {text:?} is not a number", wanted[index]))
        };
        let id = field(0).to_string();
        if id.is_empty() {
            bail!("{name} line {line}, field id: empty");
        }
        if !seen.insert(id.clone()) {
            bail!("{name} line {line}, field id: {id:?} appears twice");
        }
        let (lat, lon) = (number(2)?, number(3)?);
        let location = Location::new(lat, lon).with_context(|| {
            let field = if (-90.0..=90.0).contains(&lat) { "lon" } else { "lat" };
            format!("{name} line {line}, field {field}")
        })?;
        let skills: Vec<String> = field(4)
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let places = if with_places {
            let text = field(5);
            text.parse::<u32>()
                .with_context(|| format!("{name} line {line}, field places: {text:?} is not a whole number"))?
        } else {
            0
        };
        rows.push(CsvRow {
            id,
            unit: field(1).to_string(),
            location,
            skills,
            places,
        });
    }
    Ok(rows)
}

fn shortfall_name(shortfall: Shortfall) -> &'static str {
    match shortfall {
        Shortfall::NoPostWithTheirSkills => "no_post_with_their_skills",
        Shortfall::PostsOutOfReach => "posts_out_of_reach",
        Shortfall::PostsFilled => "posts_filled",
    }
}

fn print_json(staffing: &Staffing, people: &[Identity], posts: &[Identity], places: u64) -> Result<()> {
    let assigned: Vec<serde_json::Value> = staffing
        .placements
        .iter()
        .map(|p| {
            serde_json::json!({
                "person": people[p.person].id,
                "post": posts[p.post].id,
                "shared_skills": p.shared_skills,
                "km": (p.km * 1000.0).round() / 1000.0,
                "fit": p.scaled_fit as f64 / cadre::staffing::FIT_SCALE as f64,
            })
        })
        .collect();
    let groups: Vec<serde_json::Value> = staffing
        .unmatched_groups
        .iter()
        .map(|g| {
            serde_json::json!({
                "skills": g.skills,
                "shortfall": shortfall_name(g.shortfall),
                "people": g.people.len(),
                "units": distinct(g.people.iter().map(|&i| people[i].unit.as_str())),
            })
        })
        .collect();
    let output = serde_json::json!({
        "people": people.len(),
        "posts": posts.len(),
        "places": places,
        "allowed_pairs": staffing.allowed_pairs,
        "total_fit": staffing.total_fit(),
        "assigned": assigned,
        "unmatched": staffing.unmatched.iter().map(|&i| people[i].id.as_str()).collect::<Vec<_>>(),
        "unmatched_groups": groups,
        "skill_groups_without_post": staffing.unmatched_groups.iter()
            .filter(|g| g.shortfall == Shortfall::NoPostWithTheirSkills)
            .map(|g| serde_json::json!({"skills": g.skills, "people": g.people.len()}))
            .collect::<Vec<_>>(),
    });
    println!("{}", serde_json::to_string_pretty(&output)?);
    Ok(())
}

/// Distinct values in first-seen order.
fn distinct<'a>(values: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = HashSet::new();
    values.filter(|v| seen.insert(*v)).collect()
}

fn print_tables(staffing: &Staffing, people: &[Identity], posts: &[Identity], places: u64) {
    println!(
        "placed {} of {} people in {} places of {} posts; total fit {:.4}; {} allowed pairs",
        staffing.placements.len(),
        people.len(),
        places,
        posts.len(),
        staffing.total_fit(),
        staffing.allowed_pairs
    );
    println!();
    println!(
        "{:<16} {:<16} {:>6} {:>8} {:>9}",
        "person", "post", "shared", "km", "fit"
    );
    for p in &staffing.placements {
        println!(
            "{:<16} {:<16} {:>6} {:>8.2} {:>9.4}",
            people[p.person].id,
            posts[p.post].id,
            p.shared_skills,
            p.km,
            p.scaled_fit as f64 / cadre::staffing::FIT_SCALE as f64
        );
    }
    if staffing.unmatched.is_empty() {
        return;
    }
    println!();
    println!("unmatched: {} people, by skills", staffing.unmatched.len());
    println!("{:>7}  {:<28} skills", "people", "why");
    for group in &staffing.unmatched_groups {
        let why = match group.shortfall {
            Shortfall::NoPostWithTheirSkills => "no post asks for these",
            Shortfall::PostsOutOfReach => "posts beyond --max-km",
            Shortfall::PostsFilled => "posts filled by better fits",
        };
        println!("{:>7}  {:<28} {}", group.people.len(), why, group.skills.join(";"));
    }
}

//! Possible duplicates of a report before it is filed: open public cases of the same category in the same village or
//! community, filed recently, shown as the public sees them, so that a resident can add their voice to one instead of
//! filing the same matter again (FixMyStreet shows nearby reports on a crowded map for the same reason).

use domain::CaseKind;
use domain::case::Location;
use domain::disclosure::is_public_kind;
use domain::grid::GridIndex;
use store::{PublicFilter, Store};
use time::{Duration, OffsetDateTime};

use super::public::public_views;
use super::{CaseView, Rules, WorkflowError};

/// How far back a case still counts as "the same matter, reported recently".
pub const DUPLICATE_WINDOW_DAYS: i64 = 60;
/// How many possible duplicates a resident is shown.
pub const MAX_DUPLICATES: i64 = 5;

/// Open public cases of `category` located in `location`'s unit (or below it) and filed in the last [`DUPLICATE_WINDOW_DAYS`], newest
/// first, each as the public sees it. A report of a kind that is never public is matched against nothing: complaints
/// and petitions name people, and nobody co-signs what they cannot see.
pub async fn possible_duplicates(
    store: &Store,
    rules: &Rules,
    grids: &GridIndex,
    kind: CaseKind,
    location: &Location,
    category: &str,
    now: OffsetDateTime,
) -> Result<Vec<CaseView>, WorkflowError> {
    if !is_public_kind(kind) {
        return Ok(Vec::new());
    }
    let filter = PublicFilter {
        categories: vec![category.to_string()],
        kinds: CaseKind::ALL.into_iter().filter(|k| is_public_kind(*k)).collect(),
        from: (now - Duration::days(DUPLICATE_WINDOW_DAYS)).unix_timestamp(),
        to: now.unix_timestamp(),
        open: Some(true),
        under: Some(location.unit.clone()),
        limit: MAX_DUPLICATES,
        newest_first: true,
        ..PublicFilter::default()
    };
    public_views(store, rules, grids, &filter, "duplicates", now).await
}

//! The public cases of a unit, as the portal, its map and its feed show them: the cases of the kinds
//! `domain::disclosure` makes public, located within a unit, newest first, each through [`disclose`] with the public
//! audience — grid-centre points, identifiers masked, no reporter and no staff names — and never otherwise.

use domain::disclosure::{self, Audience};
use domain::grid::GridIndex;
use domain::{CaseKind, UnitCode};
use store::{PublicFilter, Store};
use time::OffsetDateTime;

use domain::CaseStatus;
use domain::rules::RuleError;

use super::HeldCase;
use super::disclose::{CaseView, disclose_with_photos};
use super::listing::MAX_PAGE_SIZE;
use super::{Rules, WorkflowError};

/// One page (1-based, of `page_size` from 1 to [`MAX_PAGE_SIZE`]) of the public cases located within `under`,
/// newest first, as the public may see them.
pub async fn public_cases(
    store: &Store,
    rules: &Rules,
    grids: &GridIndex,
    under: &UnitCode,
    page: u32,
    page_size: u32,
    now: OffsetDateTime,
) -> Result<Vec<CaseView>, WorkflowError> {
    if page == 0 {
        return Err(WorkflowError::field(
            "page",
            domain::said!("refused-page-from-one", "pages count from 1"),
        ));
    }
    if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
        return Err(WorkflowError::field(
            "page_size",
            format!("{page_size}; a page holds 1 to {MAX_PAGE_SIZE} rows"),
        ));
    }
    let filter = PublicFilter {
        kinds: CaseKind::ALL
            .into_iter()
            .filter(|k| disclosure::is_public_kind(*k))
            .collect(),
        from: i64::MIN,
        to: i64::MAX,
        under: Some(under.clone()),
        newest_first: true,
        limit: i64::from(page_size),
        offset: i64::from(page - 1) * i64::from(page_size),
        ..PublicFilter::default()
    };
    public_views(store, rules, grids, &filter, "portal", now).await
}

/// The cases `filter` selects, each as the public sees it (through [`disclose`]), in the filter's order.
pub async fn public_views(
    store: &Store,
    rules: &Rules,
    grids: &GridIndex,
    filter: &PublicFilter,
    via: &str,
    now: OffsetDateTime,
) -> Result<Vec<CaseView>, WorkflowError> {
    let rows = store.list_public_cases(filter).await?;
    let mut views = Vec::with_capacity(rows.len());
    // The whole page's logs, reporters, access facts and photos in four queries, not six per case.
    for shown in store.shown_cases(rows).await? {
        let status = CaseStatus::replay(shown.record.row.id, &shown.record.events).map_err(RuleError::from)?;
        let held = HeldCase {
            record: shown.record,
            access: shown.access,
            status,
            // The public audience never inspects.
            inspectors: Vec::new(),
        };
        views.push(disclose_with_photos(store, rules, grids, Audience::Public, &held, shown.photos, via, now).await?);
    }
    Ok(views)
}

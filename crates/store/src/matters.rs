//! Finding a person's earlier cases on the same matter: the Art. 36 finality check at intake and the Art. 19 return
//! both ask it.

use domain::CaseId;

use crate::{Store, StoreError};

impl Store {
    /// The ids of the cases in `category` filed by the resident account `account` or reported with the contact
    /// `contact` (either may be absent; none of both gives none), oldest first.
    pub async fn earlier_cases_of(
        &self,
        account: Option<&str>,
        contact: Option<&str>,
        category: &str,
    ) -> Result<Vec<CaseId>, StoreError> {
        if account.is_none() && contact.is_none() {
            return Ok(Vec::new());
        }
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT c.id FROM cases c \
             LEFT JOIN case_access a ON a.case_id = c.id \
             LEFT JOIN reporters r ON r.case_id = c.id \
             WHERE c.category = $1 AND (a.reporter_account = $2 OR r.contact = $3) ORDER BY c.id",
        )
        .bind(category)
        .bind(account.filter(|a| !a.is_empty()))
        .bind(contact.filter(|c| !c.is_empty()))
        .fetch_all(self.pool())
        .await?;
        // An absent account or contact is bound as NULL, which equals nothing.
        Ok(rows.into_iter().map(|r| r.0).collect())
    }
}

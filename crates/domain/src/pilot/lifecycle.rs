//! The lifecycle of a pilot: proposed → running → evaluated → expanded / revised / abandoned → codified.
//!
//! Like a case, a pilot's state is derived from its recorded actions; an action the state does not allow is rejected
//! with an error naming the pilot, the state and the action.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::Date;

use super::{Pilot, PilotError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PilotState {
    Proposed,
    Running,
    Evaluated,
    Expanded,
    Revised,
    Abandoned,
    Codified,
}

impl PilotState {
    pub const ALL: [PilotState; 7] = [
        PilotState::Proposed,
        PilotState::Running,
        PilotState::Evaluated,
        PilotState::Expanded,
        PilotState::Revised,
        PilotState::Abandoned,
        PilotState::Codified,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PilotState::Proposed => "proposed",
            PilotState::Running => "running",
            PilotState::Evaluated => "evaluated",
            PilotState::Expanded => "expanded",
            PilotState::Revised => "revised",
            PilotState::Abandoned => "abandoned",
            PilotState::Codified => "codified",
        }
    }

    pub fn parse(s: &str) -> Option<PilotState> {
        PilotState::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The state after `action`, or an error naming the pilot, this state and the action.
    pub fn apply(self, pilot: &str, action: PilotAction) -> Result<PilotState, PilotError> {
        use PilotAction as A;
        use PilotState as S;
        let next = match (self, action) {
            (S::Proposed | S::Revised, A::Start) => S::Running,
            // An evaluation may be repeated as data accrue, and an expanded practice is evaluated on its new cohorts.
            (S::Running | S::Evaluated, A::Evaluate) => S::Evaluated,
            (S::Expanded, A::Evaluate) => S::Expanded,
            // "Keep piloting": back to running without a decision.
            (S::Evaluated, A::Continue) => S::Running,
            (S::Evaluated, A::Expand) => S::Expanded,
            (S::Evaluated, A::Revise) => S::Revised,
            (S::Proposed | S::Running | S::Evaluated | S::Revised, A::Abandon) => S::Abandoned,
            (S::Expanded, A::Adopt) => S::Expanded,
            (S::Expanded, A::Codify) => S::Codified,
            _ => {
                return Err(PilotError::IllegalTransition {
                    pilot: pilot.to_string(),
                    state: self,
                    action: action.as_str(),
                });
            }
        };
        Ok(next)
    }

    /// Replays a pilot's recorded actions from `proposed`.
    pub fn replay(pilot: &str, actions: &[PilotAction]) -> Result<PilotState, PilotError> {
        actions
            .iter()
            .try_fold(PilotState::Proposed, |state, a| state.apply(pilot, *a))
    }
}

impl Pilot {
    /// The state after `action` taken on `today` (the local date): the lifecycle's transitions, and no evaluation
    /// before the pilot's start date, when it has had no effect yet (it may be started early: its change applies
    /// from the start date).
    pub fn step(&self, state: PilotState, action: PilotAction, today: Date) -> Result<PilotState, PilotError> {
        let next = state.apply(&self.name, action)?;
        if action == PilotAction::Evaluate && today < self.start {
            return Err(PilotError::NotStarted {
                pilot: self.name.clone(),
                start: self.start,
                today,
            });
        }
        Ok(next)
    }
}

impl fmt::Display for PilotState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What can be done to a pilot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PilotAction {
    Start,
    Evaluate,
    Continue,
    Expand,
    Revise,
    Abandon,
    /// Other units take up an expanded practice (a new cohort).
    Adopt,
    /// The practice is merged into the owner's policy layer.
    Codify,
}

impl PilotAction {
    pub const ALL: [PilotAction; 8] = [
        PilotAction::Start,
        PilotAction::Evaluate,
        PilotAction::Continue,
        PilotAction::Expand,
        PilotAction::Revise,
        PilotAction::Abandon,
        PilotAction::Adopt,
        PilotAction::Codify,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PilotAction::Start => "start",
            PilotAction::Evaluate => "evaluate",
            PilotAction::Continue => "continue",
            PilotAction::Expand => "expand",
            PilotAction::Revise => "revise",
            PilotAction::Abandon => "abandon",
            PilotAction::Adopt => "adopt",
            PilotAction::Codify => "codify",
        }
    }

    pub fn parse(s: &str) -> Option<PilotAction> {
        PilotAction::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

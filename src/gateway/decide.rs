//! The status machine's moves. Each runs inside the writer's transaction and
//! changes an action with one conditional UPDATE, so two deciders racing on
//! one action cannot both win.

use rusqlite::Connection;

use super::{Error, Status};
use crate::store::actions::{self, SendingAction, Transition};
use crate::store::ActionRow;
use crate::webhook::outbox;

/// An action that moved, and the webhook delivery reporting it, if any.
#[derive(Clone, Debug)]
pub struct Decided {
    pub action: ActionRow,
    pub delivery_id: Option<String>,
}

/// Result of a move: the action as it now is, or why it could not move.
pub type Decision = rusqlite::Result<Result<Decided, Error>>;

/// Error recorded on an action whose send was cut short by the sending
/// process stopping.
pub const INTERRUPTED: &str = "the send was interrupted: the gateway stopped while sending this \
     message; it may or may not have gone out, and it will not be sent again automatically";

/// Approves an undecided action and marks it as being sent by `sender_pid`.
pub fn approve(conn: &Connection, id: &str, sender_pid: u32, at: &str) -> Decision {
    apply(conn, id, Transition::Approve { sender_pid }, at)
}

/// Denies an undecided action.
pub fn deny(conn: &Connection, id: &str, reason: Option<&str>, at: &str) -> Decision {
    apply(conn, id, Transition::Deny { reason }, at)
}

/// Records the transport's verdict on an approved action.
pub fn finish(conn: &Connection, id: &str, outcome: Result<(), &str>, at: &str) -> Decision {
    let change = match outcome {
        Ok(()) => Transition::Sent,
        Err(error) => Transition::Failed { error },
    };
    apply(conn, id, change, at)
}

/// Marks failed every approved action whose send is no longer running;
/// `still_sending` says whether one may be.
pub fn fail_interrupted(
    conn: &Connection,
    still_sending: impl Fn(&SendingAction) -> bool,
    at: &str,
) -> rusqlite::Result<Vec<Decided>> {
    let mut failed = Vec::new();
    for action in actions::list_sending(conn)? {
        if still_sending(&action) {
            continue;
        }
        let change = Transition::Failed { error: INTERRUPTED };
        if let Ok(decided) = apply(conn, &action.id, change, at)? {
            failed.push(decided);
        }
    }
    Ok(failed)
}

/// Moves the action and, when the move is one agents hear about, writes the
/// webhook delivery in the same transaction.
fn apply(conn: &Connection, id: &str, change: Transition<'_>, at: &str) -> Decision {
    let moved = actions::transition(conn, id, change, at)?;
    let Some(action) = actions::get(conn, id)? else {
        return Ok(Err(Error::NotFound(format!("no action with id {id}"))));
    };
    if !moved {
        return Ok(Err(refusal(action.status, id)));
    }
    let delivery_id = outbox::enqueue(conn, &action, at)?;
    Ok(Ok(Decided {
        action,
        delivery_id,
    }))
}

fn refusal(status: Status, id: &str) -> Error {
    Error::AlreadyDecided {
        id: id.to_string(),
        status,
    }
}

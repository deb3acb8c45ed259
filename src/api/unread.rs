//! Saying `Connection: close` on an answer given before the request's body
//! was read to its end.
//!
//! HTTP/1.1 cannot carry another request on a connection whose last body
//! was left half read, and hyper closes such a connection after answering,
//! but without telling the client; a client that kept the connection for
//! its next request then found it broken. With the header it knows to open
//! a new one.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::http::{header, HeaderValue, Request, Response};
use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};

/// A request body that notes when it has been read to its end.
pub struct Watched {
    inner: Incoming,
    finished: Arc<AtomicBool>,
}

/// Whether a watched body was read to its end.
#[derive(Clone)]
pub struct Finished(Arc<AtomicBool>);

/// Wraps `request`'s body so the answer can tell whether it was read.
pub fn watch(request: Request<Incoming>) -> (Request<Watched>, Finished) {
    let finished = Arc::new(AtomicBool::new(request.body().is_end_stream()));
    let watched = request.map(|inner| Watched {
        inner,
        finished: finished.clone(),
    });
    (watched, Finished(finished))
}

/// Adds `Connection: close` to `response` unless the body was read whole.
pub fn close_if_unread<B>(response: &mut Response<B>, finished: &Finished) {
    if !finished.0.load(Ordering::Acquire) {
        let close = HeaderValue::from_static("close");
        response.headers_mut().insert(header::CONNECTION, close);
    }
}

impl Body for Watched {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(context);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.finished.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

//! The distribution's name on loopback. A CloudFront link names
//! `https://dxxxx.cloudfront.net/…`, and its per-link playlists name every
//! variant and segment by that URL too. Tests cannot resolve that name or
//! speak TLS for it, so [`CdnName`] stands in for DNS and TLS: it serves plain
//! HTTP on 127.0.0.1, forwards each GET to an edge that answers for the name
//! (`EdgeOptions::public_url`) with the `Host` a client of the name would send,
//! and in playlists it passes back writes the name as its own address. Path,
//! query and signature pass unchanged, so the edge judges exactly the signed URL.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub struct CdnName {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl CdnName {
    /// Serves `https://{domain}` on loopback through the edge at `edge`.
    pub async fn start(domain: &str, edge: SocketAddr) -> CdnName {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let domain = domain.to_owned();
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else { continue };
                let domain = domain.clone();
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(move |request| forward(request, domain.clone(), edge, addr));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(socket), service)
                        .await;
                });
            }
        });
        CdnName { addr, task }
    }

    /// `url` (on `https://{domain}`) as this stand-in serves it.
    pub fn local(&self, url: &str, domain: &str) -> String {
        url.replace(&format!("https://{domain}"), &self.base())
    }

    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for CdnName {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(
    request: Request<Incoming>,
    domain: String,
    edge: SocketAddr,
    own: SocketAddr,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let target = request.uri().path_and_query().map_or("/", |t| t.as_str()).to_owned();
    let upstream = async {
        let stream = TcpStream::connect(edge).await.map_err(|e| e.to_string())?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        let forwarded = Request::get(&target).header("host", &domain).body(Empty::<Bytes>::new()).unwrap();
        let response = sender.send_request(forwarded).await.map_err(|e| e.to_string())?;
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok::<_, String>((parts, bytes))
    };
    Ok(match upstream.await {
        Ok((parts, bytes)) => {
            let playlist = parts.headers.get("content-type").is_some_and(|t| t.as_bytes().ends_with(b"mpegurl"));
            let body = if playlist {
                let text =
                    String::from_utf8_lossy(&bytes).replace(&format!("https://{domain}"), &format!("http://{own}"));
                Bytes::from(text)
            } else {
                bytes
            };
            let mut response = Response::new(Full::new(body));
            *response.status_mut() = parts.status;
            if let Some(kind) = parts.headers.get("content-type") {
                response.headers_mut().insert("content-type", kind.clone());
            }
            response
        }
        Err(why) => {
            let mut response = Response::new(Full::new(Bytes::from(why)));
            *response.status_mut() = hyper::StatusCode::BAD_GATEWAY;
            response
        }
    })
}

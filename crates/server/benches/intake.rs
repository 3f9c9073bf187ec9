//! Durable intake throughput: Open311 `POST requests` over loopback (parse, key check, locate, route, and the write,
//! answered only after the transaction holding the case commits) beside the raw insert rate of the same rows into the
//! same SQLite file, in the same run. Both go through `Store::insert_case_with_access`, so both are group-committed
//! the same way (one writer batches the cases that arrive while the previous batch commits) with the same durability.
//!
//! Run with `cargo bench -p server --bench intake` (or `bench/intake/run.sh`). Prints cases/s for both, their ratio
//! and the latency percentiles of the HTTP path. Settings: INTAKE_REQUESTS (default 4000), INTAKE_CONNECTIONS (16).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use domain::grid::{Grid, cell_of};
use domain::territory::{Unit, UnitCode};
use domain::{CaseEvent, CaseKind, Channel, EventKind, NewCase};
use server::ratelimit::Limit;
use server::{AppState, ServerConfig};
use store::{CaseAccessRow, NewCaseRecord, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const VILLAGES: [(&str, (f64, f64)); 2] = [("330502001001", (30.87, 120.08)), ("330502002001", (30.95, 120.20))];

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn code(s: &str) -> UnitCode {
    UnitCode::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

async fn setup(path: &std::path::Path) -> Store {
    let store = Store::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("store");
    let units: Vec<Unit> = [
        ("33", "浙江省", None),
        ("3305", "湖州市", Some("33")),
        ("330502", "吴兴区", Some("3305")),
        ("330502001", "月河街道", Some("330502")),
        ("330502002", "朝阳街道", Some("330502")),
        ("330502001001", "甲村", Some("330502001")),
        ("330502002001", "乙村", Some("330502002")),
    ]
    .into_iter()
    .map(|(c, n, p)| Unit::new(code(c), n, p.map(code)).expect("unit"))
    .collect();
    store
        .upsert_units(&units.iter().collect::<Vec<_>>(), &mut |_| {})
        .await
        .expect("units");
    let grids: Vec<Grid> = VILLAGES
        .iter()
        .map(|(unit, (lat, lon))| Grid {
            id: format!("{unit}-01"),
            unit: code(unit),
            cells: vec![u64::from(cell_of(*lat, *lon).expect("cell"))],
        })
        .collect();
    store.replace_grids(&grids, &[]).await.expect("grids");
    store
}

/// Posts `bodies` over one keep-alive connection; returns each request's latency.
async fn client(addr: SocketAddr, bodies: Vec<String>) -> Vec<Duration> {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut latencies = Vec::with_capacity(bodies.len());
    let mut buf = Vec::with_capacity(4096);
    for body in bodies {
        let request = format!(
            "POST /open311/v2/requests.json HTTP/1.1\r\nHost: bench\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let started = Instant::now();
        stream.write_all(request.as_bytes()).await.expect("write");
        buf.clear();
        // Read the head, then exactly Content-Length bytes of body.
        let (head_end, length) = loop {
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "server closed the connection");
            buf.extend_from_slice(&chunk[..n]);
            if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..pos]).to_ascii_lowercase();
                assert!(head.starts_with("http/1.1 200"), "unexpected response: {head}");
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .expect("content-length");
                break (pos + 4, length);
            }
        };
        while buf.len() < head_end + length {
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "server closed the connection");
            buf.extend_from_slice(&chunk[..n]);
        }
        latencies.push(started.elapsed());
    }
    latencies
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let requests = env_usize("INTAKE_REQUESTS", 4_000);
    let connections = env_usize("INTAKE_CONNECTIONS", 16).max(1);
    let dir = std::env::temp_dir().join(format!("grassroots-intake-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("intake.db");
    let store = setup(&path).await;
    let key = server::accounts::create_api_key(&store, "bench", None)
        .await
        .expect("key");
    let config = ServerConfig {
        ip_limit: Limit {
            burst: 1e12,
            per_second: 1e12,
        },
        key_limit: Limit {
            burst: 1e12,
            per_second: 1e12,
        },
        // The background escalation guard would compete with the load being measured.
        tick_every_secs: 0,
        ..ServerConfig::default()
    };
    let state = AppState::load(store.clone(), config).await.expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let app = server::serve::app(state).into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app).await.expect("serve");
    });

    // HTTP: the Open311 path end to end.
    let body = |i: usize| {
        let (_, (lat, lon)) = VILLAGES[i % 2];
        format!(
            "api_key={key}&service_code=street_lighting&lat={lat}&long={lon}&description=bench%20request%20{i}&email=r{i}%40example.cn"
        )
    };
    let mut per_client: Vec<Vec<String>> = vec![Vec::new(); connections];
    for i in 0..requests {
        per_client[i % connections].push(body(i));
    }
    let started = Instant::now();
    let tasks: Vec<_> = per_client.into_iter().map(|b| tokio::spawn(client(addr, b))).collect();
    let mut latencies = Vec::with_capacity(requests);
    for t in tasks {
        latencies.extend(t.await.expect("client"));
    }
    let http_secs = started.elapsed().as_secs_f64();
    latencies.sort();

    // Raw: the same rows (case, reporter, created event, access facts), each call returning after its commit, with
    // the same concurrency, into the same file, through the same group-committing writer.
    let now = time::OffsetDateTime::now_utc();
    let record = |i: usize| {
        let (unit, (lat, lon)) = VILLAGES[i % 2];
        NewCaseRecord {
            case: NewCase {
                kind: CaseKind::ServiceRequest,
                channel: Channel::Open311,
                category: "street_lighting".into(),
                description: format!("bench request {i}"),
                location: domain::case::Location {
                    lat: Some(lat),
                    lon: Some(lon),
                    unit: code(unit),
                    grid: Some(format!("{unit}-01")),
                },
                reporter: Some(domain::case::Reporter {
                    name: String::new(),
                    contact: format!("r{i}@example.cn"),
                }),
                co_signers: 0,
                answers: Default::default(),
            },
            events: vec![CaseEvent {
                at: now,
                actor: "open311:bench".into(),
                kind: EventKind::Created {
                    office: format!("{unit}:committee"),
                },
            }],
            clocks: domain::clock::ClockConfig::default(),
        }
    };
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let store = store.clone();
        let rows: Vec<NewCaseRecord> = (0..requests).filter(|i| i % connections == c).map(record).collect();
        tasks.push(tokio::spawn(async move {
            for (n, r) in rows.iter().enumerate() {
                let access = CaseAccessRow {
                    token: Some(format!("raw-{c}-{n}")),
                    api_key: Some("bench".into()),
                    ..CaseAccessRow::default()
                };
                store
                    .insert_case_with_access(r, &access, &store::FixedRules::default())
                    .await
                    .expect("insert");
            }
        }));
    }
    for t in tasks {
        t.await.expect("raw");
    }
    let raw_secs = started.elapsed().as_secs_f64();

    let http_rate = requests as f64 / http_secs;
    let raw_rate = requests as f64 / raw_secs;
    println!(
        "intake benchmark: {requests} cases, {connections} connections, SQLite WAL at {}",
        path.display()
    );
    println!("  HTTP POST /open311/v2/requests.json : {http_rate:>9.0} cases/s  ({http_secs:.2} s)");
    println!("  raw insert, same rows, same file     : {raw_rate:>9.0} cases/s  ({raw_secs:.2} s)");
    println!("  ratio HTTP / raw                     : {:>9.2}", http_rate / raw_rate);
    println!(
        "  HTTP latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.90).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

//! Printing what a run measured.

use std::time::Duration;

use crate::load::Results;

/// The headline figures of one run.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    per_second: f64,
    p50: Option<u32>,
    p99: Option<u32>,
    max: Option<u32>,
}

impl Summary {
    pub fn of(results: &Results) -> Summary {
        let accepted = results.latencies_us.len() as f64;
        Summary {
            per_second: accepted / results.window.as_secs_f64().max(f64::EPSILON),
            p50: percentile(&results.latencies_us, 0.50),
            p99: percentile(&results.latencies_us, 0.99),
            max: results.latencies_us.last().copied(),
        }
    }
}

/// Prints the median of each figure over several runs, and their spread.
pub fn print_median(runs: &[Summary]) {
    let mut rates: Vec<f64> = runs.iter().map(|run| run.per_second).collect();
    rates.sort_by(f64::total_cmp);
    let median_of = |pick: fn(&Summary) -> Option<u32>| {
        let mut values: Vec<u32> = runs.iter().filter_map(pick).collect();
        values.sort_unstable();
        values.get(values.len() / 2).copied()
    };
    println!(
        "median of {} runs: {:.0} accepted/s (runs ranged {:.0}..{:.0}), \
         p50 {}  p99 {}  max {}",
        runs.len(),
        rates[rates.len() / 2],
        rates[0],
        rates[rates.len() - 1],
        millis(median_of(|run| run.p50)),
        millis(median_of(|run| run.p99)),
        millis(median_of(|run| run.max)),
    );
}

/// Prints throughput, latency percentiles, errors and CPU use.
pub fn print(results: &Results) {
    let accepted = results.latencies_us.len();
    let secs = results.window.as_secs_f64().max(f64::EPSILON);
    println!(
        "concurrency {}: {accepted} accepted in {secs:.2} s = {:.0} accepted/s",
        results.concurrency,
        accepted as f64 / secs
    );
    println!(
        "latency: p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
        millis(percentile(&results.latencies_us, 0.50)),
        millis(percentile(&results.latencies_us, 0.90)),
        millis(percentile(&results.latencies_us, 0.99)),
        millis(percentile(&results.latencies_us, 0.999)),
        millis(results.latencies_us.last().copied()),
    );
    println!(
        "errors: {} non-200 {:?}, {} connection/timeout",
        results.rejected.values().sum::<u64>(),
        results.rejected,
        results.io_errors
    );
    print_cpu(results, secs);
}

fn print_cpu(results: &Results, secs: f64) {
    let Some((own, server)) = results.cpu else {
        return;
    };
    let cores = |cpu: Duration| cpu.as_secs_f64() / secs;
    // CPU time per send barely moves with what else the machine is doing, so
    // it compares builds better than throughput on a shared machine.
    let accepted = results.latencies_us.len().max(1) as f64;
    let per_send = |cpu: Duration| cpu.as_secs_f64() * 1e6 / accepted;
    match server {
        Some(server) => println!(
            "cpu: server {:.2} cores ({:.1} µs per send), load generator {:.2} cores ({:.1} µs)",
            cores(server),
            per_send(server),
            cores(own),
            per_send(own)
        ),
        None => println!(
            "cpu: load generator {:.2} cores ({:.1} µs per send)",
            cores(own),
            per_send(own)
        ),
    }
}

/// The value below which `share` of the sorted `values` fall.
fn percentile(values: &[u32], share: f64) -> Option<u32> {
    let last = values.len().checked_sub(1)?;
    let index = ((last as f64) * share).round() as usize;
    values.get(index.min(last)).copied()
}

fn millis(micros: Option<u32>) -> String {
    match micros {
        Some(us) => format!("{:.2} ms", f64::from(us) / 1_000.0),
        None => "-".into(),
    }
}

//! A data dir whose store already holds many finished jobs, as after a season
//! of cards: for the real-window suite and the window benchmark (`bench/window.sh`).

use std::path::Path;

use streamdrop_core::engine::record_batch;
use streamdrop_core::intake::IntakePlan;
use streamdrop_core::model::{ConnectionName, IfExists};
use streamdrop_core::store::Store;
use streamdrop_core::{DataDir, JobState};

use crate::make_clip_sized;

/// Records `drops` drops of `per_drop` clips each on the local connection of
/// the data dir at `data`, every job ready. The jobs are copies of one short
/// clip made in `card` (named `A000/C0000.MP4`, … under it), which is all the
/// store needs: ready jobs never read their source again.
pub async fn ready_jobs(data: &Path, card: &Path, drops: usize, per_drop: usize) {
    let clip = make_clip_sized(card, "SEED.mp4", "160x90", 1);
    let seed = streamdrop_core::intake::plan([clip]).await.accepted.remove(0);
    let data = DataDir::at(data).expect("the data dir");
    let store = Store::open(&data.store_file()).expect("the store");
    let local = ConnectionName::local();
    let buckets = streamdrop_core::stack::local_buckets();
    for drop in 0..drops {
        let accepted = (0..per_drop)
            .map(|n| {
                let relative = format!("A{drop:03}/C{:04}.MP4", drop * per_drop + n);
                let mut job = seed.clone();
                job.source.path = card.join(&relative);
                job.relative_path = relative;
                job
            })
            .collect();
        let plan = IntakePlan { accepted, ..Default::default() };
        let (jobs, _) = record_batch(&store, &local, &buckets, plan, IfExists::Again).expect("record a drop");
        for job in jobs {
            store.set_state(job.id, &JobState::Ready).expect("mark the job ready");
        }
    }
}

//! Write-backs with different names on one server keep their changes apart.

use std::time::Duration;

use cache_redis::test_support::RedisServer;
use cache_writeback::WriteBack;

use crate::{common, support};

#[tokio::test]
async fn write_backs_with_different_names_keep_separate_changes() {
    let server = RedisServer::start();
    let tier = common::tier(&server.url()).await;
    let shop = WriteBack::builder(&tier, "shop-likes").build().unwrap();
    let blog = WriteBack::builder(&tier, "blog-likes").build().unwrap();
    shop.incr("post:1", "likes", 3).await.unwrap();
    blog.incr("post:1", "likes", 5).await.unwrap();
    assert_eq!(shop.pending("post:1").await.unwrap().delta("likes"), 3);
    assert_eq!(blog.pending("post:1").await.unwrap().delta("likes"), 5);
    let sink = support::TestSink::reliable();
    shop.drain(&sink, Duration::from_secs(3)).await.unwrap();
    assert_eq!(sink.total("likes"), 3, "only shop's changes");
    assert_eq!(blog.pending("post:1").await.unwrap().delta("likes"), 5);
}

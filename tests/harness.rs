//! The regtest harness itself: a node answers RPC, mines to a descriptor, and
//! is stopped even when the test that started it panics.
#![cfg(feature = "online")]

mod common;

use std::path::Path;

#[test]
fn node_mines_to_a_descriptor_and_stops_when_a_test_panics() {
    let (tx, rx) = std::sync::mpsc::channel();
    let result = std::thread::spawn(move || {
        let node = common::Node::start();
        let hashes = node.mine_elsewhere(3);
        assert_eq!(hashes.len(), 3);
        assert_eq!(node.call("getblockcount", &[]), 3);
        let info = node.call("getblockchaininfo", &[]);
        assert_eq!(info["chain"], "regtest");
        tx.send((node.pid(), node.datadir())).unwrap();
        panic!("a failing test");
    })
    .join();
    assert!(result.is_err(), "the thread panicked");
    let (pid, datadir) = rx.recv().unwrap();
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "bitcoind {pid} still runs after the test panicked"
    );
    assert!(!datadir.exists(), "the temporary datadir was removed");
}

//! A private regtest `bitcoind` per test: own temporary datadir, free ports,
//! cookie auth. It is stopped when the [`Node`] is dropped, including when the
//! test panics. The binary comes from `BITCOIND_EXE` (the README's test command
//! sets it from `scripts/bitcoind`), else from that script's cache.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bdk_bitcoind_rpc::bitcoincore_rpc::{self, Auth, Client, RpcApi};
use serde_json::Value;

/// A running regtest node.
pub struct Node {
    child: Option<Child>,
    datadir: tempfile::TempDir,
    rpc_port: u16,
    client: Client,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Path of the bitcoind binary, or a panic that says how to get one.
pub fn bitcoind_exe() -> PathBuf {
    if let Some(p) = std::env::var_os("BITCOIND_EXE") {
        return PathBuf::from(p);
    }
    let cache = std::env::var_os("CUSTODIA_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|p| PathBuf::from(p).join("custodia")))
        .or_else(|| std::env::var_os("HOME").map(|p| PathBuf::from(p).join(".cache/custodia")))
        .expect("HOME is set");
    let exe = cache.join("bitcoind-0.4.1/bin/bitcoind");
    assert!(
        exe.exists(),
        "no bitcoind: run `scripts/bitcoind` (builds and caches it) or set BITCOIND_EXE"
    );
    exe
}

impl Node {
    /// Starts a fresh regtest node and waits until its RPC answers. A port
    /// found free can be taken by another process before bitcoind binds it, so
    /// a failure to bind is retried with new ports.
    pub fn start() -> Node {
        for attempt in 1..=5 {
            match Node::try_start() {
                Ok(node) => return node,
                Err(log) if attempt < 5 && log.contains("Unable to bind") => continue,
                Err(log) => panic!("bitcoind did not start:\n{log}"),
            }
        }
        unreachable!("the last attempt panics")
    }

    fn try_start() -> Result<Node, String> {
        let datadir = tempfile::tempdir().expect("temp datadir");
        let rpc_port = free_port();
        let p2p_port = free_port();
        let log = std::fs::File::create(datadir.path().join("stderr.log")).unwrap();
        let child = Command::new(bitcoind_exe())
            .arg("-regtest")
            .arg(format!("-datadir={}", datadir.path().display()))
            .arg(format!("-rpcport={rpc_port}"))
            .arg(format!("-port={p2p_port}"))
            .args([
                "-listen=0",
                "-txindex=1",
                "-fallbackfee=0.0002",
                "-server=1",
                "-printtoconsole=0",
                "-rpcbind=127.0.0.1",
                "-rpcallowip=127.0.0.1",
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("bitcoind starts");
        let cookie = datadir.path().join("regtest/.cookie");
        let url = format!("http://127.0.0.1:{rpc_port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut node = Node {
            child: Some(child),
            datadir,
            rpc_port,
            // Replaced once the cookie exists.
            client: Client::new(&url, Auth::UserPass("none".into(), "none".into())).unwrap(),
        };
        loop {
            if let Some(status) = node.child.as_mut().unwrap().try_wait().unwrap() {
                let log = std::fs::read_to_string(node.datadir.path().join("stderr.log"))
                    .unwrap_or_default();
                let debug = std::fs::read_to_string(node.datadir.path().join("regtest/debug.log"))
                    .unwrap_or_default();
                return Err(format!("exited with {status}\n{log}\n{debug}"));
            }
            if cookie.exists() {
                if let Ok(client) = Client::new(&url, Auth::CookieFile(cookie.clone())) {
                    if client.get_blockchain_info().is_ok() {
                        node.client = client;
                        return Ok(node);
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "bitcoind did not answer RPC within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The RPC client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// `http://127.0.0.1:<port>`.
    pub fn rpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.rpc_port)
    }

    /// The cookie file for RPC auth.
    pub fn cookie_file(&self) -> PathBuf {
        self.datadir.path().join("regtest/.cookie")
    }

    /// Process id of bitcoind.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// The node's datadir.
    pub fn datadir(&self) -> PathBuf {
        self.datadir.path().to_owned()
    }

    /// Calls any RPC with JSON arguments.
    pub fn call(&self, method: &str, args: &[Value]) -> Value {
        self.try_call(method, args)
            .unwrap_or_else(|e| panic!("RPC {method} {args:?} failed: {e}"))
    }

    /// Calls any RPC, returning the error instead of panicking.
    pub fn try_call(&self, method: &str, args: &[Value]) -> Result<Value, bitcoincore_rpc::Error> {
        self.client.call(method, args)
    }

    /// Mines `blocks` blocks paying their coinbase to `descriptor`.
    pub fn mine_to_descriptor(&self, blocks: u64, descriptor: &str) -> Vec<String> {
        let v = self.call("generatetodescriptor", &[blocks.into(), descriptor.into()]);
        serde_json::from_value(v).unwrap()
    }

    /// Mines `blocks` blocks to an address nobody in the test uses, e.g. to
    /// mature coinbases or confirm transactions.
    pub fn mine_elsewhere(&self, blocks: u64) -> Vec<String> {
        // P2WSH of OP_TRUE: anyone can spend it, nobody in the tests does.
        let op_true = bitcoin::ScriptBuf::from(vec![0x51]);
        let address = bitcoin::Address::p2wsh(&op_true, bitcoin::Network::Regtest);
        self.mine_to_descriptor(blocks, &format!("addr({address})"))
    }

    /// Adds the descriptor checksum bitcoind expects.
    pub fn with_checksum(&self, descriptor: &str) -> String {
        let info = self.call("getdescriptorinfo", &[descriptor.into()]);
        format!(
            "{}#{}",
            descriptor.split('#').next().unwrap(),
            info["checksum"].as_str().unwrap()
        )
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = self.client.stop();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

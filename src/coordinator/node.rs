//! The Bitcoin Core node: where to find it (flags, environment, `config.toml`),
//! connecting to it, and its health.

use std::path::{Path, PathBuf};

use bdk_bitcoind_rpc::bitcoincore_rpc::{Auth, Client, RpcApi};
use bitcoin::consensus::encode::serialize_hex;
use bitcoin::{Network, Transaction, Txid};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::datadir::{write_private, DataDir};
use super::error::CoordinatorError;

/// How to reach the node, as given on the command line or in the environment.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct NodeArgs {
    /// Bitcoin Core RPC URL, e.g. http://127.0.0.1:18443.
    #[arg(long, env = "CUSTODIA_RPC_URL", global = true)]
    pub rpc_url: Option<String>,
    /// RPC cookie file (the node's `.cookie`).
    #[arg(long, env = "CUSTODIA_RPC_COOKIE", global = true, conflicts_with_all = ["rpc_user", "rpc_pass"])]
    pub rpc_cookie: Option<PathBuf>,
    /// RPC user name (with --rpc-pass).
    #[arg(long, env = "CUSTODIA_RPC_USER", global = true, requires = "rpc_pass")]
    pub rpc_user: Option<String>,
    /// RPC password (with --rpc-user).
    #[arg(
        long,
        env = "CUSTODIA_RPC_PASS",
        global = true,
        requires = "rpc_user",
        hide_env_values = true
    )]
    pub rpc_pass: Option<String>,
}

/// Node settings as stored in the data dir's `config.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSettings {
    /// RPC URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpc_url: Option<String>,
    /// Cookie file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpc_cookie: Option<PathBuf>,
    /// User name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpc_user: Option<String>,
    /// Password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpc_pass: Option<String>,
}

/// The data dir's `config.toml`: node settings and where syncing starts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// How to reach the node.
    #[serde(default)]
    pub node: NodeSettings,
    /// Sync settings.
    #[serde(default)]
    pub sync: SyncSettings,
}

/// Where syncing starts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncSettings {
    /// The vault's birth height: blocks below it are never fetched (0: from genesis).
    #[serde(default)]
    pub start_height: u32,
}

impl Config {
    /// Reads `config.toml` from the data dir (defaults if there is none).
    pub fn load(dir: &DataDir) -> Result<Config, CoordinatorError> {
        let path = dir.config_path();
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str::<Config>(&text).map_err(|e| {
                CoordinatorError::NodeSettings(format!(
                    "{} is invalid: {e}; fix it or run init again",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(CoordinatorError::io(path, e)),
        }
    }

    /// Writes `config.toml` (0600: it may hold a password).
    pub fn store(&self, dir: &DataDir) -> Result<(), CoordinatorError> {
        let text = toml::to_string(self).expect("settings serialize");
        let header =
            "# custodia-coordinator settings; flags and CUSTODIA_RPC_* override the node ones\n";
        write_private(&dir.config_path(), format!("{header}{text}").as_bytes())
    }
}

impl NodeSettings {
    /// These settings with whatever the command line gives replacing them; a
    /// new way to authenticate replaces the old one as a whole.
    pub fn overridden_by(&self, args: &NodeArgs) -> NodeSettings {
        let mut s = self.clone();
        if args.rpc_url.is_some() {
            s.rpc_url = args.rpc_url.clone();
        }
        if args.rpc_cookie.is_some() {
            s.rpc_cookie = args.rpc_cookie.clone();
            s.rpc_user = None;
            s.rpc_pass = None;
        }
        if args.rpc_user.is_some() {
            s.rpc_user = args.rpc_user.clone();
            s.rpc_pass = args.rpc_pass.clone();
            s.rpc_cookie = None;
        }
        s
    }

    /// The URL, or the node's default port for `network` on localhost.
    pub fn url(&self, network: Network) -> String {
        self.rpc_url.clone().unwrap_or_else(|| {
            let port = match network {
                Network::Bitcoin => 8332,
                Network::Testnet => 18332,
                Network::Testnet4 => 48332,
                Network::Signet => 38332,
                Network::Regtest => 18443,
            };
            format!("http://127.0.0.1:{port}")
        })
    }

    fn auth(&self) -> Result<Auth, CoordinatorError> {
        match (&self.rpc_cookie, &self.rpc_user, &self.rpc_pass) {
            (Some(cookie), None, None) => Ok(Auth::CookieFile(cookie.clone())),
            (None, Some(u), Some(p)) => Ok(Auth::UserPass(u.clone(), p.clone())),
            (None, None, None) => Err(CoordinatorError::NodeSettings(
                "no RPC credentials; pass --rpc-cookie FILE or --rpc-user U --rpc-pass P (or set them at init)".into(),
            )),
            _ => Err(CoordinatorError::NodeSettings(
                "give either a cookie file or a user and password, not both and not half".into(),
            )),
        }
    }
}

/// A connection to a node whose network matches the vault's.
pub struct Node {
    client: Client,
    url: String,
    /// Kept to open another connection (blocks are fetched on one of their own).
    auth: Auth,
}

/// The node's view of the chain.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NodeHealth {
    /// The RPC URL.
    pub url: String,
    /// Core's chain name (`main`, `test`, `signet`, `regtest`).
    pub chain: String,
    /// Height of the best validated block.
    pub blocks: u64,
    /// Height of the best known header.
    pub headers: u64,
    /// Hash of the best block.
    pub tip_hash: String,
    /// Whether the node is still in initial block download.
    pub initial_block_download: bool,
    /// Estimate of how much of the chain is verified, 0 to 1.
    pub verification_progress: f64,
    /// Whether the node's chain is the policy's network (always true for a
    /// [`Node`] that connected).
    pub network_matches: bool,
}

impl NodeHealth {
    /// Whether the node has caught up: not in IBD and all headers have blocks.
    pub fn is_synced(&self) -> bool {
        !self.initial_block_download && self.blocks == self.headers
    }
}

impl Node {
    /// Connects, asks for the chain, and refuses a node on another network.
    pub fn connect(
        settings: &NodeSettings,
        network: Network,
    ) -> Result<(Node, NodeHealth), CoordinatorError> {
        let url = settings.url(network);
        let auth = settings.auth()?;
        if let Auth::CookieFile(path) = &auth {
            check_cookie(&url, path)?;
        }
        let client = open_client(&url, &auth)?;
        let node = Node { client, url, auth };
        let health = node.health_unchecked()?;
        if health.chain != network.to_core_arg() {
            return Err(CoordinatorError::WrongNetwork {
                url: node.url,
                node: health.chain,
                policy: network,
            });
        }
        Ok((node, health))
    }

    /// The RPC client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Another connection to the same node, for work done on another thread.
    pub(crate) fn another_connection(&self) -> Result<Client, CoordinatorError> {
        open_client(&self.url, &self.auth)
    }

    /// Calls `method`; a transport failure is "cannot reach", anything else an RPC error.
    pub fn call(&self, method: &str, args: &[Value]) -> Result<Value, CoordinatorError> {
        self.client
            .call(method, args)
            .map_err(|e| self.rpc_error(method, e))
    }

    pub(crate) fn rpc_error(
        &self,
        method: &str,
        e: bdk_bitcoind_rpc::bitcoincore_rpc::Error,
    ) -> CoordinatorError {
        rpc_error(&self.url, method, e)
    }

    fn health_unchecked(&self) -> Result<NodeHealth, CoordinatorError> {
        let info = self.call("getblockchaininfo", &[])?;
        let field = |name: &str| {
            info.get(name)
                .cloned()
                .ok_or_else(|| CoordinatorError::Rpc {
                    call: "getblockchaininfo".into(),
                    reason: format!("the answer has no `{name}`"),
                })
        };
        Ok(NodeHealth {
            url: self.url.clone(),
            chain: field("chain")?.as_str().unwrap_or_default().to_string(),
            blocks: field("blocks")?.as_u64().unwrap_or_default(),
            headers: field("headers")?.as_u64().unwrap_or_default(),
            tip_hash: field("bestblockhash")?
                .as_str()
                .unwrap_or_default()
                .to_string(),
            initial_block_download: field("initialblockdownload")?.as_bool().unwrap_or(true),
            verification_progress: field("verificationprogress")?.as_f64().unwrap_or_default(),
            network_matches: true,
        })
    }

    /// The node's health now.
    pub fn health(&self) -> Result<NodeHealth, CoordinatorError> {
        self.health_unchecked()
    }

    /// A fee rate estimate in sat/vB for confirmation within `blocks`, if the node has one.
    pub fn estimate_sat_per_vb(&self, blocks: u16) -> Option<f64> {
        let v = self.call("estimatesmartfee", &[json!(blocks)]).ok()?;
        let btc_per_kvb = v.get("feerate")?.as_f64()?;
        Some(btc_per_kvb * 100_000_000.0 / 1000.0)
    }

    /// Checks with `testmempoolaccept` that the node would take `tx`, then
    /// sends it. A rejection names the node's reason and sends nothing.
    pub fn broadcast(&self, tx: &Transaction) -> Result<Txid, CoordinatorError> {
        let hex = serialize_hex(tx);
        let txid = tx.compute_txid();
        let verdict = self.call("testmempoolaccept", &[json!([hex])])?;
        let first = verdict.get(0).cloned().unwrap_or(Value::Null);
        if first.get("allowed").and_then(Value::as_bool) != Some(true) {
            let reason = first
                .get("reject-reason")
                .and_then(Value::as_str)
                .unwrap_or("no reason given")
                .to_string();
            return Err(CoordinatorError::Rejected { txid, reason });
        }
        self.call("sendrawtransaction", &[json!(hex)])?;
        Ok(txid)
    }
}

fn open_client(url: &str, auth: &Auth) -> Result<Client, CoordinatorError> {
    Client::new(url, auth.clone()).map_err(|e| CoordinatorError::NodeUnreachable {
        url: url.to_string(),
        reason: e.to_string(),
    })
}

/// A failed call to the node at `url`: a transport failure is "cannot
/// reach", anything else an RPC error.
pub(crate) fn rpc_error(
    url: &str,
    method: &str,
    e: bdk_bitcoind_rpc::bitcoincore_rpc::Error,
) -> CoordinatorError {
    use bdk_bitcoind_rpc::bitcoincore_rpc::{jsonrpc, Error};
    match e {
        Error::JsonRpc(jsonrpc::Error::Transport(t)) => CoordinatorError::NodeUnreachable {
            url: url.to_string(),
            reason: t.to_string(),
        },
        Error::JsonRpc(jsonrpc::Error::Rpc(r)) => CoordinatorError::Rpc {
            call: method.to_string(),
            reason: r.message,
        },
        other => CoordinatorError::Rpc {
            call: method.to_string(),
            reason: other.to_string(),
        },
    }
}

fn check_cookie(url: &str, path: &Path) -> Result<(), CoordinatorError> {
    std::fs::metadata(path)
        .map(|_| ())
        .map_err(|e| CoordinatorError::NodeUnreachable {
            url: url.to_string(),
            reason: format!(
                "cannot read the cookie file {} ({e}); is the node running with this datadir?",
                path.display()
            ),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_replace_stored_settings() {
        let stored = NodeSettings {
            rpc_url: Some("http://a:1".into()),
            rpc_cookie: Some("/c".into()),
            ..Default::default()
        };
        let args = NodeArgs {
            rpc_user: Some("u".into()),
            rpc_pass: Some("p".into()),
            ..Default::default()
        };
        let s = stored.overridden_by(&args);
        assert_eq!(s.rpc_url.as_deref(), Some("http://a:1"));
        assert_eq!(s.rpc_cookie, None);
        assert!(matches!(s.auth(), Ok(Auth::UserPass(..))));
        assert!(NodeSettings::default().auth().is_err());
        assert_eq!(
            NodeSettings::default().url(Network::Regtest),
            "http://127.0.0.1:18443"
        );
    }

    #[test]
    fn node_down_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let cookie = dir.path().join("cookie");
        std::fs::write(&cookie, "__cookie__:x").unwrap();
        // A port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let s = NodeSettings {
            rpc_url: Some(format!("http://127.0.0.1:{port}")),
            rpc_cookie: Some(cookie),
            ..Default::default()
        };
        let err = Node::connect(&s, Network::Regtest).err().unwrap();
        assert!(
            matches!(err, CoordinatorError::NodeUnreachable { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("cannot reach bitcoind"));
    }
}

//! The online coordinator: watch-only wallets, chain sync, proposals.

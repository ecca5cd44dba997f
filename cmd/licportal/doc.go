// Command licportal is the licensing portal for licensed agents: it holds
// the key that signs licenses and permission tickets, the TLS material
// agents use to reach it, and the store of SKUs, PAKs, devices and the
// licenses issued to them.
//
//	licportal init --state-dir DIR [--listen-name NAME]... [--force]
//	licportal issue --state-dir DIR --udi PID:SN --feature F [flags]
//	licportal serve --state-dir DIR --listen ADDR
//	licportal sku add|list --state-dir DIR ...
//	licportal pak create --state-dir DIR --sku SKU [--qty N] [--count N]
//	licportal pak show --state-dir DIR PAK
//	licportal extension issue --state-dir DIR --udi PID:SN --feature F [--days N]
//	licportal device show|reset-key --state-dir DIR --udi PID:SN
//	licportal permission-ticket --state-dir DIR --udi PID:SN [--target PID:SN]
//	licportal rehost --state-dir DIR --rehost-ticket FILE [--to PID:SN]
//	licportal rma --state-dir DIR --from PID:SN --to PID:SN
//	licportal redeem --state-dir DIR --credential FILE --pak PAK
//	licportal audit --state-dir DIR [--limit N]
//
// Administrative commands work whether or not serve runs on the same
// state directory: they reach a running serve over its admin socket
// (DIR/admin.sock), else open the store themselves.
//
// Exit status: 0 success, 1 the command failed, 2 invalid command line.
package main

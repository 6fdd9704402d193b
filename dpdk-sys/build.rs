//! Generates bindings against the system DPDK found by pkg-config and builds
//! the C shim that exports DPDK's static-inline functions.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn pkg_config(args: &[&str]) -> Option<String> {
    let out = Command::new("pkg-config").args(args).arg("libdpdk").output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    println!("cargo:rerun-if-changed=wrapper.h");
    println!("cargo:rerun-if-changed=shim.h");
    println!("cargo:rerun-if-changed=shim.c");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");

    let Some(cflags) = pkg_config(&["--cflags"]) else {
        eprintln!("error: DPDK (pkg-config libdpdk) not found: run scripts/setup.sh as root first");
        std::process::exit(1);
    };
    let libs = pkg_config(&["--libs"]).unwrap_or_default();
    let cflags: Vec<String> = cflags.split_whitespace().map(str::to_string).collect();

    let mut shim = cc::Build::new();
    shim.file("shim.c").include(".").warnings(false);
    for f in &cflags {
        shim.flag(f);
    }
    shim.compile("anchor_dpdk_shim");

    for tok in libs.split_whitespace() {
        if let Some(dir) = tok.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={dir}");
        } else if let Some(lib) = tok.strip_prefix("-l") {
            // `-l:librte_net_bond.so.23` style entries name a file, not a library.
            if !lib.starts_with(':') {
                println!("cargo:rustc-link-lib=dylib={lib}");
            }
        }
    }

    let bindings = bindgen::Builder::default()
        .header("wrapper.h")
        .clang_args(cflags.iter().map(String::as_str))
        .clang_arg("-I.")
        .allowlist_function("rte_.*|anchor_.*")
        .allowlist_type("rte_.*")
        .allowlist_var("RTE_.*|rte_.*|RING_F_.*")
        .opaque_type("rte_l2tpv2_combined_msg_hdr")
        .clang_macro_fallback()
        .derive_default(true)
        .derive_debug(false)
        .layout_tests(true)
        .generate_comments(false)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
        .generate();
    let bindings = match bindings {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: bindgen failed on the DPDK headers: {e}");
            std::process::exit(1);
        }
    };
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    if let Err(e) = bindings.write_to_file(out.join("bindings.rs")) {
        eprintln!("error: cannot write bindings: {e}");
        std::process::exit(1);
    }
}

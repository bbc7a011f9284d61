# Sourced (not run) by the scripts that use cargo's output. Sets:
# - target_dir: cargo's own target directory, from `cargo metadata` (CARGO_TARGET_DIR,
#   .cargo/config.toml), never a guess;
# - lib_ext: the host's shared-library extension (.so on Linux, .dylib on macOS).
# Exits, naming the calling script, when cargo names no target directory.
case "$(uname -s)" in
    Darwin) lib_ext=dylib ;;
    *) lib_ext=so ;;
esac
target_dir=$(cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
[ -n "$target_dir" ] || {
    echo "$(basename "$0" .sh): cargo metadata names no target directory" >&2
    exit 1
}

# Sourced (not run) by the scripts that use cargo's output. Sets:
# - target_dir: cargo's own target directory, from `cargo metadata` (CARGO_TARGET_DIR,
#   .cargo/config.toml), never a guess;
# - lib_ext: the host's shared-library extension (.so on Linux, .dylib on macOS).
# Exits, naming the calling script, when cargo names no target directory. Defines:
# - lib_flags PROFILE: sets the array `lib_build` to the cargo flags that build authcore-ffi's
#   library of that profile, found in $target_dir/PROFILE: debug, release, or mobile (the phone
#   libraries: Cargo.toml's profile `mobile`, without the QR-image decoder);
# - phone_profile ARGS: the phone build scripts' one option: sets `profile` to mobile, or to
#   release with --with-qr-image-decoding, and `lib_build` to its flags.
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

lib_flags() {
    case $1 in
        debug) lib_build=() ;;
        release) lib_build=(--release) ;;
        mobile) lib_build=(--profile mobile --no-default-features) ;;
        *) echo "$(basename "$0" .sh): no library profile '$1' (debug, release or mobile)" >&2; exit 2 ;;
    esac
}

phone_profile() {
    profile=mobile
    local arg
    for arg in "$@"; do
        case $arg in
            --with-qr-image-decoding) profile=release ;;
            *) echo "$(basename "$0" .sh): unknown argument $arg (--with-qr-image-decoding)" >&2; exit 2 ;;
        esac
    done
    lib_flags "$profile"
}

# shellcheck shell=bash
# The one kernel work tree that build-kernel.sh and check-series.sh share (sourced after
# common.sh, with the tree lock held: take_tree_lock).
#
# $VSTEER_CACHE/tree/linux-KEY (KEY = tree_key: sources, compiler, flags) holds Debian's
# linux-source-6.12, configured with scripts/vm/kernel.config (a copy of the fragment it was
# configured with is .vsteer/fragment; another fragment is applied in place), plus whatever
# prefix of a series is applied. Moving between states reverts or applies patches in place, so kbuild recompiles
# only what depends on the files they touch (about a fifth of the objects), not the whole
# kernel. .vsteer/state names the state:
#   baseline         no patch applied
#   patched SHA      the patches listed in .vsteer/applied/series (SHA: their contents)
#   dirty            a run stopped while patching: the next one starts from a fresh tree

tree=$VSTEER_CACHE/tree/linux-$(tree_key)
state_dir=$tree/.vsteer

# A fixed path is used for every build; ccache ignores it anyway.
export CCACHE_BASEDIR=$tree
mk() { make -C "$tree" -s ARCH=x86_64 CC="ccache gcc" HOSTCC="ccache gcc" KCFLAGS="$KERNEL_KCFLAGS" "$@"; }

take_tree_lock() {
	mkdir -p "$VSTEER_CACHE/tree" "$CCACHE_DIR"
	exec 9>"$VSTEER_CACHE/tree/kernel.lock"
	flock 9
}

# Removes DIR in the background (about 40 s for a tree), detached from our stdout so that
# $(build-kernel.sh) does not wait for it.
discard() {
	local trash=$VSTEER_CACHE/tree/.trash.$$.$RANDOM
	mv "$1" "$trash"
	# shellcheck disable=SC2217  # (stdin too: nothing may hold the caller's pipes)
	(rm -rf "$trash" </dev/null >/dev/null 2>&1 &)
}

# Checks that every line of the fragment survived olddefconfig.
check_config() {
	local missing=0 line opt
	while read -r line; do
		case $line in
		'# CONFIG_'*' is not set')
			opt=${line#\# }; opt=${opt%% *}
			if grep -q "^$opt=" "$tree/.config"; then
				log "config: $opt should be off but is $(grep "^$opt=" "$tree/.config")"
				missing=1
			fi ;;
		CONFIG_*)
			if ! grep -qx "$line" "$tree/.config"; then
				log "config: $line did not survive olddefconfig"
				missing=1
			fi ;;
		esac
	done <"$CONFIG_FRAGMENT"
	[ "$missing" = 0 ] || die "config fragment $CONFIG_FRAGMENT not honoured (missing dependencies?)"
}

tree_state() { cat "$state_dir/state" 2>/dev/null || echo missing; }
set_tree_state() { echo "$1" >"$state_dir/state"; }

# A fresh tree in state baseline; trees of other keys (and of older layouts) go.
new_tree() {
	local t
	command -v ccache >/dev/null || die "ccache missing (apt-get install ccache)"
	[ -f "$KERNEL_TARBALL" ] || die "$KERNEL_TARBALL missing (apt-get install $KERNEL_PKG)"
	# Kconfig would silently drop BTF without pahole; say what is missing instead
	if grep -qx 'CONFIG_DEBUG_INFO_BTF=y' "$CONFIG_FRAGMENT" && ! command -v pahole >/dev/null; then
		die "pahole missing: $(basename "$CONFIG_FRAGMENT") sets CONFIG_DEBUG_INFO_BTF=y (apt-get install dwarves)"
	fi
	for t in "$VSTEER_CACHE"/tree/linux-* "$VSTEER_CACHE"/tree/{baseline,patched,series}; do
		[ -e "$t" ] && discard "$t"
	done
	mkdir -p "$state_dir"
	set_tree_state dirty
	log "extracting $KERNEL_TARBALL"
	tar -xf "$KERNEL_TARBALL" --strip-components=1 -C "$tree"
	configure_tree
	set_tree_state baseline
}

# .config = tinyconfig + the fragment, as in a fresh tree; the objects stay, and kbuild
# recompiles what depends on the options that changed.
configure_tree() {
	log "configuring (tinyconfig + $(basename "$CONFIG_FRAGMENT"))"
	mk tinyconfig >/dev/null
	grep -v '^[[:space:]]*$' "$CONFIG_FRAGMENT" | grep -v '^# [^C]' >>"$tree/.config"
	mk olddefconfig >/dev/null 2>&1
	check_config
	cp "$CONFIG_FRAGMENT" "$state_dir/fragment"
}

# The tree, unless missing or dirty; configured with the current fragment.
ensure_tree() {
	case $(tree_state) in missing|dirty) new_tree ;; esac
	if ! cmp -s "$CONFIG_FRAGMENT" "$state_dir/fragment"; then
		log "config fragment changed: reconfiguring the work tree at baseline"
		revert_to_baseline
		if ! cmp -s "$CONFIG_FRAGMENT" "$state_dir/fragment"; then
			set_tree_state dirty
			configure_tree
			set_tree_state baseline
		fi
	fi
}

# State name of a list of patch files (in order).
patched_state() {
	local p
	echo "patched $(for p in "$@"; do patch_code "$p"; done | sha256sum | cut -c1-16)"
}

# Applies one patch (a path) on top of the current state.
apply_patch() {
	local p=$1 name
	name=$(basename "$p")
	mkdir -p "$state_dir/applied"
	touch "$state_dir/applied/series"
	log "applying $name"
	# a dry run first: a patch that does not apply leaves the tree as it was, not dirty
	patch -d "$tree" -p1 -F0 -s --dry-run <"$p" >/dev/null ||
		die "$name does not apply to $KERNEL_PKG (after: $(tr '\n' ' ' <"$state_dir/applied/series"))"
	set_tree_state dirty
	patch -d "$tree" -p1 -F0 -s --no-backup-if-mismatch <"$p" || die "$name does not apply to $KERNEL_PKG"
	cp "$p" "$state_dir/applied/$name"
	echo "$name" >>"$state_dir/applied/series"
	local applied=()
	mapfile -t applied < <(sed "s|^|$state_dir/applied/|" "$state_dir/applied/series")
	set_tree_state "$(patched_state "${applied[@]}")"
}

# Back to baseline: reverts what .vsteer/applied records, newest first; a fresh tree when
# that fails.
revert_to_baseline() {
	local p
	[ "$(tree_state)" = baseline ] && return 0
	if [ ! -f "$state_dir/applied/series" ]; then
		log "the work tree does not record its patches: starting from a fresh tree"
		new_tree
		return 0
	fi
	set_tree_state dirty
	while read -r p; do
		log "reverting $p"
		if ! patch -d "$tree" -R -p1 -F0 -s --no-backup-if-mismatch <"$state_dir/applied/$p"; then
			log "$p does not revert cleanly: starting from a fresh tree"
			new_tree
			return 0
		fi
	done < <(tac "$state_dir/applied/series")
	rm -rf "$state_dir/applied"
	set_tree_state baseline
}

# Re-reads Kconfig after patches changed it; the fragment must still hold.
reconfigure() {
	mk olddefconfig >/dev/null 2>&1
	check_config
}

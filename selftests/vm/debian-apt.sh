# SPDX-License-Identifier: GPL-2.0
# Sourced by fetch-kernel.sh and build-sparse.sh: apt-get and apt-cache with
# a private configuration in CACHE/apt/, for packages of Debian suites the
# host does not use (the newest kernel from stable and stable-backports,
# sparse's source from sid). The host's sources, lists and package state are
# never read or changed; only its apt.conf.d (proxies and the like) applies.
#
# Layout of CACHE/apt/: sources.list, lists/, archives/, cache/, state/,
# none/ (an empty folder for the parts apt must not read).
# shellcheck shell=bash

dapt_keyring=/usr/share/keyrings/debian-archive-keyring.gpg

# dapt_init CACHE: the options every call takes. apt's downloads run as the
# caller: the cache is mostly in a home folder that apt's own user (_apt)
# cannot enter, and apt would fall back to that anyway, warning at every run.
dapt_init() {
	dapt_dir=$1/apt
	mkdir -p "$dapt_dir"/{lists/partial,archives/partial,cache,state,none}
	dapt_opts=(
		-o APT::Sandbox::User=root
		-o Dir::Etc::SourceList="$dapt_dir/sources.list"
		-o Dir::Etc::SourceParts="$dapt_dir/none"
		-o Dir::Etc::Preferences=/dev/null
		-o Dir::Etc::PreferencesParts="$dapt_dir/none"
		-o Dir::State="$dapt_dir/state"
		-o Dir::State::Lists="$dapt_dir/lists"
		-o Dir::State::status=/dev/null
		-o Dir::Cache="$dapt_dir/cache"
		-o Dir::Cache::archives="$dapt_dir/archives"
	)
}

dapt_get() { apt-get "${dapt_opts[@]}" "$@"; }
dapt_cache() { apt-cache "${dapt_opts[@]}" "$@"; }

# dapt_mirror: the URI the host itself takes Debian main of its own release
# from, as apt parses its sources (.list and deb822 .sources alike), so the
# tree names no mirror. VCB_DEBIAN_MIRROR overrides it.
dapt_mirror() {
	local codename uri
	if [ -n "${VCB_DEBIAN_MIRROR:-}" ]; then
		echo "$VCB_DEBIAN_MIRROR"
		return
	fi
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	# shellcheck disable=SC2016 # $(...) are apt's fields
	uri=$(apt-get --no-release-info indextargets \
			--format '$(TARGET_OF) $(RELEASE) $(COMPONENT) $(REPO_URI)' |
		awk -v c="$codename" '$1 == "deb" && $2 == c && $3 == "main" { print $4; exit }')
	if [ -z "$uri" ]; then
		echo "apt: no Debian main for '$codename' in the host's apt sources; set VCB_DEBIAN_MIRROR" >&2
		return 1
	fi
	echo "${uri%/}"
}

# The codename "stable" stood for at the last update (trixie today).
dapt_stable_codename() {
	sed -n 's/^Codename: //p' "$dapt_dir"/lists/*_dists_stable_InRelease 2>/dev/null |
		head -n 1
}

# dapt_sources MIRROR CODENAME: "stable" only for its Release file (which
# names the codename), the codename's own suites for the packages: a mirror
# may serve the alias's folder staler than the codename's (seen 2026-11-30:
# stable-backports a month behind trixie-backports); sid for sparse's source.
dapt_sources() {
	local m=$1 c=$2 o="signed-by=$dapt_keyring"
	echo "deb [$o target=none] $m stable main"
	if [ -n "$c" ]; then
		echo "deb [$o target=Packages] $m $c main"
		echo "deb [$o target=Packages] $m $c-backports main"
	fi
	echo "deb-src [$o target=Sources] $m sid main"
}

# dapt_update: refreshes the lists, at most every 10 minutes (one
# "make check" asks for the newest kernel in lint, dkms and the VM run).
# Fails when they could not be refreshed; what was fetched before stays.
dapt_update() {
	local mirror old new stamp=$dapt_dir/updated
	[ -n "$(find "$stamp" -mmin -10 2>/dev/null)" ] && return 0
	mirror=$(dapt_mirror) || return 1
	old=$(dapt_stable_codename)
	dapt_sources "$mirror" "$old" > "$dapt_dir/sources.list"
	dapt_get -qq --error-on=any update >&2 || return 1
	new=$(dapt_stable_codename)
	# The first update, or the one after a Debian release.
	if [ "$new" != "$old" ]; then
		dapt_sources "$mirror" "$new" > "$dapt_dir/sources.list"
		dapt_get -qq --error-on=any update >&2 || return 1
	fi
	touch "$stamp"
}

# dapt_max: the highest of the Debian versions on its input, one a line.
dapt_max() {
	local v best=
	while read -r v; do
		if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then
			best=$v
		fi
	done
	echo "$best"
}

# dapt_highest PKG: the highest version of binary package PKG in any suite
# (backports are not candidates by default: apt pins them low); nothing
# when no list has it.
dapt_highest() {
	{ dapt_cache show "$1" 2>/dev/null || true; } | sed -n 's/^Version: //p' | dapt_max
}

#!/usr/bin/env bash
# Check a Kaldi-style data dir written by stage 0: required tables present, ids sorted
# (C order) and unique, every table keyed by the ids of video.scp, category2utt consistent
# with utt2category, and every listed media file present.
# Usage: validate_data_dir.sh [--no-check-files] data/<set>
set -u -o pipefail
export LC_ALL=C

check_files=true
if [ "${1:-}" = "--no-check-files" ]; then check_files=false; shift; fi
if [ $# -ne 1 ]; then
  echo "usage: $0 [--no-check-files] <data-dir>" >&2
  exit 1
fi
dir=$1
errors=0
fail() { echo "validate_data_dir.sh: $dir: $*" >&2; errors=$((errors + 1)); }

[ -d "$dir" ] || { fail "not a directory"; exit 1; }
for f in video.scp wav.scp utt2category category2utt; do
  [ -f "$dir/$f" ] || fail "$f is missing"
done
[ $errors -eq 0 ] || exit 1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cut -d' ' -f1 "$dir/video.scp" > "$tmp/utts"

for f in video.scp wav.scp utt2category utt2meta events utt2source; do
  [ -f "$dir/$f" ] || continue
  cut -d' ' -f1 "$dir/$f" > "$tmp/keys"
  sort -c "$tmp/keys" 2>/dev/null || fail "$f is not sorted by utterance id (C order)"
  dup=$(uniq -d "$tmp/keys" | head -n 1)
  [ -z "$dup" ] || fail "$f has a duplicate id: $dup"
  bad=$(grep -v -E '^[A-Za-z0-9][A-Za-z0-9_.-]*$' "$tmp/keys" | head -n 1)
  [ -z "$bad" ] || fail "$f has an unsafe utterance id: '$bad'"
  if awk 'NF < 2 { exit 1 }' "$dir/$f"; then :; else fail "$f has a line with no value"; fi
done

for f in wav.scp utt2category; do
  cut -d' ' -f1 "$dir/$f" > "$tmp/keys"
  cmp -s "$tmp/utts" "$tmp/keys" || fail "$f ids differ from video.scp"
done
for f in utt2meta events utt2source; do
  [ -f "$dir/$f" ] || continue
  cut -d' ' -f1 "$dir/$f" | sort > "$tmp/keys"
  extra=$(comm -23 "$tmp/keys" "$tmp/utts" | head -n 1)
  [ -z "$extra" ] || fail "$f lists an id not in video.scp: $extra"
done

# category2utt must be utt2category inverted
awk '{ for (i = 2; i <= NF; i++) print $i, $1 }' "$dir/category2utt" | sort > "$tmp/c2u"
sort "$dir/utt2category" > "$tmp/u2c"
cmp -s "$tmp/c2u" "$tmp/u2c" || fail "category2utt does not match utt2category"

if $check_files; then
  for f in video.scp wav.scp utt2meta; do
    [ -f "$dir/$f" ] || continue
    while read -r utt path; do
      if [ ! -s "$path" ]; then fail "$f: $utt: file not found or empty: $path"; break; fi
    done < "$dir/$f"
  done
fi

if [ $errors -gt 0 ]; then
  echo "validate_data_dir.sh: $dir: $errors problem(s)" >&2
  exit 1
fi
echo "validate_data_dir.sh: $dir: OK ($(wc -l < "$tmp/utts") utterances)"

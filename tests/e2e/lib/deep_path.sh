# deep_binary DIR: copies /bin/true to a deep path under DIR and prints it:
# 17 names of 1..17 bytes (every length around the 8-byte words the BTF path
# walk copies), then names of 60 and 70 bytes (too long for a dentry's inline
# name), over 255 bytes in all (longer than the kernel process table keeps).
deep_binary() {
  local d=$1 n
  for n in $(seq 17); do d+=/$(printf 'n%.0s' $(seq "$n")); done
  d+=/$(printf 'L%.0s' $(seq 60))/$(printf 'M%.0s' $(seq 70))
  mkdir -p "$d" && cp /bin/true "$d/prog" && echo "$d/prog"
}

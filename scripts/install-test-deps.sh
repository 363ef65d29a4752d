#!/usr/bin/env bash
# Installs what Pawket's tests need beyond npm packages (run by `npm test` as `pretest`):
#   - postgresql (Debian): server binaries for the PostgreSQL + S3 pass of the suite;
#   - nginx-light (Debian): load balancer of the multi-node test and reference server of the benchmarks;
#   - openssl (Debian): the signing tests' certificates and timestamp authority;
#   - chromium (Debian): the browser of the web UI tests (driven by playwright-core; no browser is downloaded);
#   - mono-complete (Debian): the runtime that runs nuget.exe on Linux;
#   - nuget.exe (NuGet.CommandLine, from the NuGet registry) into .tools/ of this repo (git-ignored);
#   - .NET tools from the NuGet registry into .tools/: PowerShell 7.6 (with PSResourceGet), Paket, dotnet-outdated.
# The dotnet SDK itself is expected on the machine (the dotnet CLI tests warn and skip without it).
# Idempotent: each tool is skipped when it is already there, so a second run takes a second or two.
# To add a tool: write one install_<tool> function below and call it from main.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"

NUGET_EXE_VERSION="6.13.1"
# Where the tests look for nuget.exe (keep in step with test/e2e/support/clients.ts).
NUGET_EXE="$TOOLS/nuget/$NUGET_EXE_VERSION/NuGet.exe"

# .NET tools the V2/legacy client tests drive (keep in step with test/e2e/support/paths.ts).
PWSH_VERSION="7.6.9"
PAKET_VERSION="12.0.0"
OUTDATED_VERSION="4.8.1"

log() { printf '[install-test-deps] %s\n' "$*"; }

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
# Installs Debian packages unless all of them are installed already.
apt_install() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    log "apt: already installed: $*"
    return 0
  fi
  log "apt: installing ${missing[*]}"
  # Wait for another apt/dpkg (for example an unattended install) instead of failing on the lock.
  local apt_opts=(-o DPkg::Lock::Timeout=900 -y -q)
  if [ "$apt_updated" -eq 0 ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update
    apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install --no-install-recommends "${missing[@]}"
}

# mono runs nuget.exe (the classic NuGet client) on Linux.
install_mono() {
  if command -v mono >/dev/null 2>&1 && dpkg-query -W -f='${Status}' mono-complete 2>/dev/null | grep -q 'install ok installed'; then
    log "mono: present ($(mono --version | head -n 1))"
    return 0
  fi
  apt_install mono-complete
}

# nuget.exe comes from the NuGet.CommandLine package (tools/NuGet.exe). We fetch it the way a user's machine is set
# up to reach NuGet: a throwaway project with a PackageDownload, restored by dotnet with the machine's own NuGet
# configuration (sources, proxies), into a private packages folder.
install_nuget_exe() {
  if [ -s "$NUGET_EXE" ]; then
    log "nuget.exe: present ($NUGET_EXE_VERSION)"
    return 0
  fi
  if ! command -v dotnet >/dev/null 2>&1; then
    log "nuget.exe: SKIPPED, dotnet is needed to fetch it from the NuGet registry and is not installed"
    return 0
  fi
  log "nuget.exe: fetching NuGet.CommandLine $NUGET_EXE_VERSION"
  local work
  work="$(mktemp -d "${TMPDIR:-/tmp}/pawket-nuget-exe.XXXXXX")"
  # The SDK's own target framework, so no targeting pack has to be downloaded.
  cat >"$work/fetch.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net\$(BundledNETCoreAppTargetFrameworkVersion)</TargetFramework>
    <RestorePackagesPath>$work/packages</RestorePackagesPath>
  </PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="NuGet.CommandLine" Version="[$NUGET_EXE_VERSION]" />
  </ItemGroup>
</Project>
XML
  local exe="$work/packages/nuget.commandline/$NUGET_EXE_VERSION/tools/NuGet.exe"
  if ! (cd "$work" && dotnet restore fetch.csproj --nologo -v q) || [ ! -s "$exe" ]; then
    log "nuget.exe: could not fetch NuGet.CommandLine $NUGET_EXE_VERSION from the NuGet registry (see above)"
    rm -rf "$work"
    return 1
  fi
  mkdir -p "$(dirname "$NUGET_EXE")"
  cp "$exe" "$NUGET_EXE.tmp"
  mv "$NUGET_EXE.tmp" "$NUGET_EXE"
  rm -rf "$work"
  log "nuget.exe: installed at .tools/nuget/$NUGET_EXE_VERSION/NuGet.exe"
}

# PostgreSQL server binaries: the test suite's second pass runs on a throw-away cluster (test/support/postgres.ts).
install_postgres() {
  if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    log "postgresql: present"
    return 0
  fi
  apt_install postgresql
}

# nginx: the load balancer in front of several nodes in the multi-node test, and the reference in bench/.
install_nginx() {
  if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
    log "nginx: present"
    return 0
  fi
  apt_install nginx-light
}

# openssl: makes the signing tests' certificates and answers their RFC 3161 timestamp requests (test/support/test-pki.ts).
install_openssl() {
  if command -v openssl >/dev/null 2>&1; then
    log "openssl: present"
    return 0
  fi
  apt_install openssl
}

# Installs a .NET tool into .tools/<dir> unless <command> is already there.
install_dotnet_tool() {
  local dir="$1" package="$2" version="$3" command="$4"
  if [ -x "$TOOLS/$dir/$command" ]; then
    log "$package: present ($version)"
    return 0
  fi
  if ! command -v dotnet >/dev/null 2>&1; then
    log "$package: SKIPPED, dotnet is needed to install it and is not installed"
    return 0
  fi
  log "$package: installing $version into .tools/$dir"
  dotnet tool install --tool-path "$TOOLS/$dir" "$package" --version "$version"
}

# PowerShell 7.6: ships PSResourceGet 1.2 and PowerShellGet 2.2.5 (with PackageManagement), the two module clients.
install_pwsh() { install_dotnet_tool pwsh PowerShell "$PWSH_VERSION" pwsh; }

# Paket, the alternative .NET dependency manager.
install_paket() { install_dotnet_tool paket paket "$PAKET_VERSION" paket; }

# dotnet-outdated reports newer versions of a project's packages.
install_outdated() { install_dotnet_tool dotnet-outdated dotnet-outdated-tool "$OUTDATED_VERSION" dotnet-outdated; }

# Chromium (Debian's package): the browser the web UI tests drive with playwright-core (test/e2e/ui.test.ts).
install_chromium() {
  if [ -x /usr/bin/chromium ]; then
    log "chromium: present"
    return 0
  fi
  apt_install chromium
}

main() {
  install_postgres
  install_nginx
  install_openssl
  install_mono
  install_nuget_exe
  install_pwsh
  install_paket
  install_outdated
  install_chromium
}

main "$@"

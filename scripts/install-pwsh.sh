#!/usr/bin/env bash
# Installs PowerShell 7.6.9 (the dotnet global tool) and Pester 5.7.1 (NuGet), pinned, into a cache outside the
# work tree. Idempotent: does nothing when both are present. Prints the pwsh path on stdout, or with --pester-path
# the folder holding the Pester module ("$tools/pester-5.7.1", put it on PSModulePath).
set -euo pipefail
pwsh_version=7.6.9
pester_version=5.7.1
tools=${VMDEBUG_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/vmdebug/tools}
pwsh_dir=$tools/pwsh-$pwsh_version
pester_dir=$tools/pester-$pester_version
print=pwsh
case ${1:-} in
    '') ;;
    --pester-path) print=pester ;;
    *) echo "install-pwsh: unknown argument $1 (use --pester-path or nothing)" >&2; exit 2 ;;
esac

if [[ ! -x $pwsh_dir/pwsh ]]; then
    echo "install-pwsh: installing PowerShell $pwsh_version into $pwsh_dir" >&2
    rm -rf "$pwsh_dir"
    dotnet tool install PowerShell --version "$pwsh_version" --tool-path "$pwsh_dir" >&2
fi

if [[ ! -f $pester_dir/Pester/Pester.psd1 ]]; then
    echo "install-pwsh: installing Pester $pester_version into $pester_dir" >&2
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    cat >"$work/fetch.csproj" <<PROJ
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework><ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally></PropertyGroup>
  <ItemGroup><PackageDownload Include="Pester" Version="[$pester_version]" /></ItemGroup>
</Project>
PROJ
    # Outside the repository, so the repository's Directory.*.props do not apply.
    dotnet restore "$work/fetch.csproj" --packages "$work/packages" -v q >&2
    rm -rf "$pester_dir"
    mkdir -p "$pester_dir"
    cp -r "$work/packages/pester/$pester_version/tools" "$pester_dir/Pester"
fi
if [[ $print == pester ]]; then echo "$pester_dir"; else echo "$pwsh_dir/pwsh"; fi

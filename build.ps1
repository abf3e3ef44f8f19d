#Requires -Version 7.4
<#
.SYNOPSIS
    Builds the VmDebug module into ./out/VmDebug, ready for Import-Module.
.DESCRIPTION
    Publishes src/VmDebug (the cmdlets) with the engine beside it. The project copies the manifest, the formats
    and en-US help into its output, so the output folder is the module. -Test also runs the xunit suite.
.EXAMPLE
    ./build.ps1; Import-Module ./out/VmDebug/VmDebug.psd1
#>
[CmdletBinding()]
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',
    [string] $OutputPath = (Join-Path $PSScriptRoot 'out' 'VmDebug'),
    [switch] $Test
)
$ErrorActionPreference = 'Stop'

dotnet publish (Join-Path $PSScriptRoot 'src' 'VmDebug' 'VmDebug.csproj') -c $Configuration -o $OutputPath -warnaserror -nologo
if ($LASTEXITCODE) { throw "dotnet publish failed with exit code $LASTEXITCODE" }

# PowerShellStandard.Library is compile-only; a copy beside the module would shadow pwsh's own SMA.
Remove-Item (Join-Path $OutputPath 'System.Management.Automation.dll') -ErrorAction Ignore

if ($Test) {
    dotnet test (Join-Path $PSScriptRoot 'tests' 'VmDebug.Tests') -c $Configuration
    if ($LASTEXITCODE) { throw "tests failed with exit code $LASTEXITCODE" }
    Invoke-Pester -Path (Join-Path $PSScriptRoot 'tests' 'pester') -Output Detailed
}
Write-Host "Module built: Import-Module $(Join-Path $OutputPath 'VmDebug.psd1')"

#Requires -Version 7.4
<#
.SYNOPSIS
    Builds the VmDebug module into ./out/VmDebug, ready for Import-Module, and the vmdebug CLI into ./out/vmdebug/vmdebug;
    -Test also runs every test.
.DESCRIPTION
    Publishes src/VmDebug (the cmdlets) with the engine beside it. The project copies the manifest, the formats
    and the help (generated from docs/en-US at build time) into its output, so the output folder is the module.
    Publishes src/VmDebug.Cli as a NativeAOT executable (scripts/publish-cli.sh; it runs without a .NET runtime),
    which the xunit tests run as users do.
    -Test builds the solution with warnings as errors, runs the xunit suite, then the Pester suite (tests/pester) in a
    fresh pwsh against the built module, and ends with one line counting both: "N passed, N failed, N skipped".
    Pester 5.7.1 comes from scripts/install-pwsh.sh (pinned, cached outside the work tree).
.EXAMPLE
    ./build.ps1; Import-Module ./out/VmDebug/VmDebug.psd1
.EXAMPLE
    ./build.ps1 -Test
.EXAMPLE
    ./build.ps1 -Test -TestFilter 'FullyQualifiedName~FrontEnds.Module' -PesterPath tests/pester/Help.Tests.ps1
#>
[CmdletBinding()]
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',
    [string] $OutputPath = (Join-Path $PSScriptRoot 'out' 'VmDebug'),
    # Where the NativeAOT vmdebug executable goes.
    [string] $CliOutputPath = (Join-Path $PSScriptRoot 'out' 'vmdebug'),
    [switch] $Test,
    # With -Test: only the xunit tests this filter selects (dotnet test --filter), and only these Pester files.
    [string] $TestFilter,
    [string[]] $PesterPath
)
$ErrorActionPreference = 'Stop'

if ($Test) {
    dotnet build (Join-Path $PSScriptRoot 'VmDebug.slnx') -c $Configuration -warnaserror -nologo -v q
    if ($LASTEXITCODE) { throw "dotnet build failed with exit code $LASTEXITCODE" }
}
dotnet publish (Join-Path $PSScriptRoot 'src' 'VmDebug' 'VmDebug.csproj') -c $Configuration -o $OutputPath -warnaserror -nologo -v q
if ($LASTEXITCODE) { throw "dotnet publish failed with exit code $LASTEXITCODE" }

# PowerShellStandard.Library is compile-only; a copy beside the module would shadow pwsh's own SMA.
Remove-Item (Join-Path $OutputPath 'System.Management.Automation.dll') -ErrorAction Ignore
Write-Host "Module built: Import-Module $(Join-Path $OutputPath 'VmDebug.psd1')"
$env:CONFIGURATION = $Configuration
$cli = & (Join-Path $PSScriptRoot 'scripts' 'publish-cli.sh') $CliOutputPath
if ($LASTEXITCODE) { throw "scripts/publish-cli.sh failed with exit code $LASTEXITCODE" }
Write-Host "CLI built: $cli"
if (-not $Test) { return }

$results = [System.IO.Directory]::CreateTempSubdirectory('vmdebug-test-').FullName
Write-Host "Test results: $results"

# The CLI tests run this executable (tests/VmDebug.Tests/Support/Cli.cs).
$env:VMDEBUG_CLI = $cli
$filter = if ($TestFilter) { @('--filter', $TestFilter) } else { @() }
dotnet test (Join-Path $PSScriptRoot 'tests' 'VmDebug.Tests') -c $Configuration --no-build --logger 'trx;LogFileName=results.trx' `
    --results-directory $results @filter -- xUnit.ShowLiveOutput=false
$xunitStatus = $LASTEXITCODE
$trxFile = Join-Path $results 'results.trx'
$xunit = @{ passed = 0; failed = 0; skipped = 0 }
if (Test-Path $trxFile) {
    $trx = [xml] (Get-Content -Raw $trxFile)
    $outcomes = @($trx.TestRun.Results.UnitTestResult)
    $xunit.passed = @($outcomes | Where-Object outcome -EQ 'Passed').Count
    $xunit.failed = @($outcomes | Where-Object outcome -EQ 'Failed').Count
    $skippedTests = @($outcomes | Where-Object outcome -EQ 'NotExecuted')
    $xunit.skipped = $skippedTests.Count
    if ($skippedTests) {
        Write-Host 'Skipped xunit tests (each names the missing tool):'
        foreach ($t in $skippedTests) { Write-Host "  $($t.testName): $($t.Output.StdOut ?? $t.Output.ErrorInfo.Message)" }
    }
}
elseif (-not $xunitStatus) { $xunitStatus = 1 }

# The pinned pwsh and Pester (installed on first use): Pester runs in a fresh pwsh, apart from this build's session.
$installPwsh = Join-Path $PSScriptRoot 'scripts' 'install-pwsh.sh'
$pwsh = & $installPwsh
$pesterModules = & $installPwsh --pester-path
if ($LASTEXITCODE) { throw "scripts/install-pwsh.sh failed with exit code $LASTEXITCODE" }
$pesterFiles = if ($PesterPath) { @{ Path = $PesterPath -join ',' } } else { @{} }
& $pwsh -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot 'scripts' 'invoke-pester.ps1') `
    -PesterPath $pesterModules -ResultsDirectory $results @pesterFiles
$pesterStatus = $LASTEXITCODE
$countsFile = Join-Path $results 'counts.json'
$pester = if (Test-Path $countsFile) { Get-Content -Raw $countsFile | ConvertFrom-Json } else { [pscustomobject]@{ passed = 0; failed = 1; skipped = 0 } }

Write-Host "xunit: $($xunit.passed) passed, $($xunit.failed) failed, $($xunit.skipped) skipped; Pester: $($pester.passed) passed, $($pester.failed) failed, $($pester.skipped) skipped"
Write-Host "$($xunit.passed + $pester.passed) passed, $($xunit.failed + $pester.failed) failed, $($xunit.skipped + $pester.skipped) skipped"
exit $(if ($xunitStatus -or $pesterStatus) { 1 } else { 0 })

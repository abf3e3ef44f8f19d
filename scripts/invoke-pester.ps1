#Requires -Version 7.4
<#
.SYNOPSIS
    Runs the Pester suite (tests/pester) against the built module, in a fresh pwsh, and writes its counts.
.DESCRIPTION
    Imports the pinned Pester from -PesterPath, writes NUnit XML (testResults.xml) and counts.json
    ({ passed, failed, skipped }) into -ResultsDirectory. Failed counts failed tests plus failed blocks and containers
    (a file that fails to load counts once). Exits 1 when anything failed or nothing ran.
#>
param(
    [Parameter(Mandatory)] [string] $PesterPath,
    [Parameter(Mandatory)] [string] $ResultsDirectory,
    # Files or folders to run; several may be given comma-separated (pwsh -File passes one string).
    [string[]] $Path = @(Join-Path (Split-Path $PSScriptRoot) 'tests' 'pester'),
    [string] $Verbosity = 'Detailed'
)
$ErrorActionPreference = 'Stop'
# Plain text in error messages (here and in every pwsh a test starts): NUnit XML cannot hold ANSI escapes.
$PSStyle.OutputRendering = 'PlainText'
$env:NO_COLOR = '1'
Import-Module (Join-Path $PesterPath 'Pester' 'Pester.psd1') -RequiredVersion 5.7.1

$configuration = New-PesterConfiguration
$configuration.Run.Path = @($Path -split ',' | ForEach-Object Trim | Where-Object { $_ })
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = $Verbosity
$configuration.TestResult.Enabled = $true
$configuration.TestResult.OutputFormat = 'NUnitXml'
$configuration.TestResult.OutputPath = Join-Path $ResultsDirectory 'testResults.xml'
$result = Invoke-Pester -Configuration $configuration

$counts = [ordered]@{
    passed  = $result.PassedCount
    # A block or file that fails with no failed test of its own (an AfterAll, a parse error) counts once.
    failed  = $result.FailedCount + @($result.FailedBlocks | Where-Object FailedCount -EQ 0).Count +
        @($result.Containers | Where-Object { $_.Result -eq 'Failed' -and $_.FailedCount -eq 0 }).Count
    skipped = $result.SkippedCount + $result.NotRunCount
}
$counts | ConvertTo-Json -Compress | Set-Content (Join-Path $ResultsDirectory 'counts.json')
foreach ($test in $result.Skipped) { Write-Host "  skipped: $($test.ExpandedPath)" }
exit $(if ($counts.failed -or -not $counts.passed) { 1 } else { 0 })

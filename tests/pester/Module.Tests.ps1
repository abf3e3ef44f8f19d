#Requires -Version 7.4
# The module as a whole: the README's loading instructions as written, import under strict mode, the manifest, and
# [OutputType] with a view for every cmdlet.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-VmDebugModule
    $cmdlets = @(Get-Command -Module VmDebug -CommandType Cmdlet | ForEach-Object { @{ Name = $_.Name } })
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-VmDebugModule
    $root = Get-VmDebugRepoRoot
    $manifestPath = Get-VmDebugModulePath
    $pwsh = Join-Path $PSHOME 'pwsh'
    if (-not (Test-Path $pwsh)) { $pwsh = (Get-Command pwsh -CommandType Application -ErrorAction Stop | Select-Object -First 1).Source }

    # Runs a script in a fresh pwsh (no profile, none of this session's state) and returns its output lines and exit code.
    function Invoke-FreshPwsh([string] $Script, [string] $WorkingDirectory = $root) {
        Push-Location $WorkingDirectory
        try { $output = & $pwsh -NoProfile -NonInteractive -Command $Script 2>&1 | ForEach-Object ToString }
        finally { Pop-Location }
        [pscustomobject]@{ Output = @($output); ExitCode = $LASTEXITCODE }
    }

    # The first powershell block under a README heading, exactly as written.
    function Get-ReadmeCodeBlock([string] $Heading) {
        $readme = Get-Content -Raw (Join-Path $root 'README.md')
        $pattern = '(?ms)^## ' + [regex]::Escape($Heading) + '\s*$.*?^```powershell\s*$(.*?)^```'
        $match = [regex]::Match($readme, $pattern)
        if (-not $match.Success) { throw "README.md has no powershell block under '## $Heading'" }
        $match.Groups[1].Value
    }
}
AfterAll { Remove-TestArtifacts }

Describe 'Loading the module' {
    It 'works exactly as the README says, in a fresh pwsh from the repository root' {
        $block = Get-ReadmeCodeBlock 'Loading the module in pwsh'
        $block | Should -Match 'Import-Module'
        $result = Invoke-FreshPwsh ('$ErrorActionPreference = ''Stop''' + "`n" + $block)
        $result.ExitCode | Should -Be 0 -Because ($result.Output -join "`n")
        $manifest = Import-PowerShellDataFile $manifestPath
        foreach ($cmdlet in $manifest.CmdletsToExport) { $result.Output -join "`n" | Should -Match ([regex]::Escape($cmdlet)) }
    }

    It 'imports and reports errors under Set-StrictMode -Version Latest' {
        $script = @"
Set-StrictMode -Version Latest
`$ErrorActionPreference = 'Stop'
Import-Module '$manifestPath'
foreach (`$c in Get-Command -Module VmDebug) { `$null = Get-Help `$c.Name -Full }
try { Invoke-QmpCommand -QmpSocket /nonexistent/qmp.sock -Command query-status }
catch { 'error:' + `$_.FullyQualifiedErrorId + ':' + `$_.CategoryInfo.Category + ':' + `$_.TargetObject }
"@
        $result = Invoke-FreshPwsh $script
        $result.ExitCode | Should -Be 0 -Because ($result.Output -join "`n")
        $result.Output | Where-Object { $_ -like 'error:*' } |
            Should -Match '^error:Qmp\w+,VmDebug\.Commands\.InvokeQmpCommandCommand:\w+:/nonexistent/qmp\.sock$'
    }

    It 'imports twice in one session without errors (-Force)' {
        { Import-Module $manifestPath -Force -ErrorAction Stop } | Should -Not -Throw
        @(Get-Module VmDebug).Count | Should -Be 1
    }
}

Describe 'Manifest' {
    BeforeAll { $manifest = Test-ModuleManifest $manifestPath -ErrorAction Stop }

    It 'is valid and names the compiled module, its formats and PowerShell 7.4 Core' {
        $manifest.RootModule | Should -Be 'VmDebug.dll'
        $manifest.PowerShellVersion | Should -Be ([version] '7.4')
        $manifest.CompatiblePSEditions | Should -Be @('Core')
        $manifest.ExportedFormatFiles | ForEach-Object { $_ | Should -Exist }
    }

    It 'exports exactly the compiled cmdlets, and nothing else' {
        $compiled = (Get-Module VmDebug).ImplementingAssembly.GetTypes() |
            Where-Object { -not $_.IsAbstract -and $_.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false) } |
            ForEach-Object { $a = $_.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]; "$($a.VerbName)-$($a.NounName)" }
        @($manifest.ExportedCmdlets.Keys | Sort-Object) | Should -Be @($compiled | Sort-Object)
        (Get-Command -Module VmDebug).Name | Sort-Object | Should -Be @($compiled | Sort-Object)
        $manifest.ExportedFunctions.Count | Should -Be 0
        $manifest.ExportedAliases.Count | Should -Be 0
        $manifest.ExportedVariables.Count | Should -Be 0
    }

    It 'has the version of the compiled assembly' {
        $assemblyVersion = (Get-Module VmDebug).ImplementingAssembly.GetName().Version
        $manifest.Version | Should -Be ([version]::new($assemblyVersion.Major, $assemblyVersion.Minor, $assemblyVersion.Build))
    }

    It 'ships the help beside the module' {
        Join-Path (Split-Path $manifestPath) 'en-US' 'VmDebug.dll-Help.xml' | Should -Exist
    }
}

Describe 'Output types' {
    It '<Name> declares [OutputType] with VmDebug types that have a view' -ForEach $cmdlets {
        $types = @((Get-Command $Name).OutputType)
        $types.Count | Should -BeGreaterThan 0
        foreach ($type in $types) {
            $type.Type | Should -Not -BeNullOrEmpty -Because "$($type.Name) must resolve to a loaded type"
            $type.Type.Namespace | Should -Be 'VmDebug'
            $type.Type.IsSealed | Should -BeTrue
            Get-FormatData -TypeName $type.Name | Should -Not -BeNullOrEmpty -Because "$($type.Name) needs a view"
        }
    }
}

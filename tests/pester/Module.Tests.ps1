#Requires -Version 7.4
# The module as a whole: manifest, exports, help presence.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-VmDebugModule
    $manifestPath = Get-VmDebugModulePath
}
AfterAll { Remove-TestArtifacts }

Describe 'Module' {
    It 'exports exactly the manifest''s cmdlets' {
        $manifest = Import-PowerShellDataFile $manifestPath
        (Get-Command -Module VmDebug).Name | Sort-Object | Should -Be ($manifest.CmdletsToExport | Sort-Object)
    }

    It 'has help with a synopsis and examples for every cmdlet' {
        foreach ($command in Get-Command -Module VmDebug) {
            $help = Get-Help $command.Name -Full
            $help.Synopsis | Should -Not -BeNullOrEmpty -Because $command.Name
            @($help.Examples.Example).Count | Should -BeGreaterThan 0 -Because $command.Name
        }
    }
}

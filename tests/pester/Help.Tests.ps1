#Requires -Version 7.4
# Get-Help must say what Get-Command binds, for every parameter of every cmdlet: the help's metadata is generated from
# the compiled cmdlets by tools/VmDebug.HelpBuilder and its prose comes from docs/en-US/<Cmdlet>.md.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-VmDebugModule
    $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
    $commands = @(Get-Command -Module VmDebug -CommandType Cmdlet | ForEach-Object { @{ Name = $_.Name } })
    $parameters = @(foreach ($command in Get-Command -Module VmDebug -CommandType Cmdlet) {
            foreach ($parameter in $command.Parameters.Values | Where-Object Name -NotIn $common) {
                @{ Command = $command.Name; Parameter = $parameter.Name }
            }
        })
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-VmDebugModule

    # What the help should say, from the binding metadata: required when mandatory in any set, the lowest position
    # any set gives, pipeline input as the union over the sets.
    function Get-ExpectedParameterHelp([System.Management.Automation.ParameterMetadata] $Parameter) {
        $sets = @($Parameter.ParameterSets.Values)
        $positions = @($sets.Position | Where-Object { $_ -ge 0 })
        $type = $Parameter.ParameterType
        if ($type.IsGenericType -and $type.GetGenericTypeDefinition() -eq [Nullable`1]) { $type = $type.GetGenericArguments()[0] }
        [pscustomobject]@{
            Required       = [bool] ($sets | Where-Object IsMandatory)
            Position       = if ($positions.Count) { "$(($positions | Measure-Object -Minimum).Minimum)" } else { 'named' }
            ByValue        = [bool] ($sets | Where-Object ValueFromPipeline)
            ByPropertyName = [bool] ($sets | Where-Object ValueFromPipelineByPropertyName)
            Aliases        = @($Parameter.Aliases | Sort-Object)
            Wildcards      = [bool] ($Parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
            TypeName       = $type.FullName
        }
    }

    function Get-PipelineFlags([string] $Text) {
        [pscustomobject]@{ ByValue = $Text -match '\bByValue\b'; ByPropertyName = $Text -match '\bByPropertyName\b' }
    }
}

Describe 'Help for <Name>' -ForEach $commands {
    BeforeAll {
        $command = Get-Command $Name
        $help = Get-Help $Name -Full
    }

    It 'has a synopsis, a description and examples' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -Match "^\s*$Name\s*\[" -Because 'a synopsis that is the syntax means no help file was found'
        ($help.description.Text -join '') | Should -Not -BeNullOrEmpty
        @($help.Examples.Example).Count | Should -BeGreaterThan 0
    }

    It 'shows one syntax block per parameter set, with the set''s parameters and their required flags' {
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
        $expected = @(foreach ($set in $command.ParameterSets) {
                $shown = @($set.Parameters | Where-Object { $_.Name -notin $common -or $_.Name -in 'WhatIf', 'Confirm' })
                ($shown | Sort-Object Name | ForEach-Object { "$($_.Name):$($_.IsMandatory)" }) -join ' '
            }) | Sort-Object
        $actual = @(foreach ($item in @($help.syntax.syntaxItem)) {
                (@($item.parameter) | Sort-Object { $_.name } | ForEach-Object { "$($_.name):$($_.required -eq 'true')" }) -join ' '
            }) | Sort-Object
        $actual | Should -Be $expected
    }

    It 'lists its output types' {
        $declared = @($command.OutputType.Name)
        $declared | Should -Not -BeNullOrEmpty
        $documented = @($help.returnValues.returnValue.type.name)
        foreach ($type in $declared) { $documented | Should -Contain $type }
    }
}

Describe 'Help for <Command> -<Parameter>' -ForEach $parameters {
    BeforeAll {
        $metadata = (Get-Command $Command).Parameters[$Parameter]
        $expected = Get-ExpectedParameterHelp $metadata
        $help = Get-Help $Command -Parameter $Parameter
    }

    It 'has a description' {
        ($help.description.Text -join '').Trim() | Should -Not -BeNullOrEmpty
    }

    It 'agrees with Get-Command: required, position, pipeline input, aliases, wildcards, type' {
        $help.required | Should -Be $expected.Required.ToString().ToLowerInvariant()
        $help.position | Should -Be $expected.Position
        $flags = Get-PipelineFlags $help.pipelineInput
        $flags.ByValue | Should -Be $expected.ByValue -Because "pipeline input is '$($help.pipelineInput)'"
        $flags.ByPropertyName | Should -Be $expected.ByPropertyName -Because "pipeline input is '$($help.pipelineInput)'"
        $aliases = if ($help.aliases -and $help.aliases -ne 'none') { @($help.aliases -split ',\s*' | Sort-Object) } else { @() }
        $aliases | Should -Be $expected.Aliases
        $help.globbing | Should -Be $expected.Wildcards.ToString().ToLowerInvariant()
        $help.type.name | Should -Be $expected.TypeName
    }
}

Describe 'Help for the parameters the issue names' {
    It '<Command> -<Parameter> shows Required? true' -ForEach @(
        @{ Command = 'Get-VsockKmsgStream'; Parameter = 'ChardevSocket' }
        @{ Command = 'Get-VsockKmsgStream'; Parameter = 'HybridVsockPath' }
    ) {
        (Get-Help $Command -Parameter $Parameter | Out-String) | Should -Match 'Required\?\s+true'
    }

    It '<Command> -Path accepts wildcards, and says so' -ForEach @(
        @{ Command = 'Convert-Vmcore' }
        @{ Command = 'Get-QemuCoreDump' }
    ) {
        (Get-Command $Command).Parameters['Path'].Attributes.TypeId.Name | Should -Contain 'SupportsWildcardsAttribute'
        (Get-Help $Command -Parameter Path | Out-String) | Should -Match 'Accept wildcard characters\?\s+true'
    }

    It 'shows the LiteralPath aliases of <Command>' -ForEach @(
        @{ Command = 'Convert-Vmcore' }
        @{ Command = 'Get-QemuCoreDump' }
        @{ Command = 'Invoke-GuestMemoryDump' }
    ) {
        (Get-Help $Command -Parameter LiteralPath | Out-String) | Should -Match 'Aliases\s+PSPath, LP'
    }
}

Describe 'About topics' {
    It '<_> is shown by Get-Help' -ForEach @('about_VmDebug', 'about_VmDebug_Kmsg') {
        $text = Get-Help $_ | Out-String
        $text | Should -Match "TOPIC\s+$_"
        $text | Should -Match 'SHORT DESCRIPTION'
        $text | Should -Match 'SEE ALSO'
    }
}

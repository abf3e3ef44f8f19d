#Requires -Version 7.4
# Invoke-QmpCommand against a real QEMU guest (TCG): binding, arguments, reply shape, confirmation, errors, view, completion.

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $PSScriptRoot 'runspace.ps1')
    Import-VmDebugModule
    $guest = Start-TestGuest -MemoryMiB 128
    $socket = $guest.QmpSocket
}

AfterAll { Remove-TestArtifacts }

Describe 'Invoke-QmpCommand' {
    Context 'parameter binding' {
        It 'binds QmpSocket and Command by position' {
            (Invoke-QmpCommand $socket query-status).Command | Should -Be 'query-status'
        }

        It 'binds QmpSocket by property name from the pipeline' {
            $responses = [pscustomobject]@{ QmpSocket = $socket }, [pscustomobject]@{ QmpSocket = $socket } |
                Invoke-QmpCommand -Command query-version
            $responses.Count | Should -Be 2
            $responses[0].Return.qemu.major | Should -BeGreaterOrEqual 7
        }

        It 'defect 18: takes -Arguments as a hashtable, a PSCustomObject, ConvertFrom-Json output or JSON text' {
            $forms = @(
                @{ path = '/machine'; property = 'type' }
                [pscustomobject]@{ path = '/machine'; property = 'type' }
                ('{"path": "/machine", "property": "type"}' | ConvertFrom-Json)
                '{"path": "/machine", "property": "type"}'
            )
            foreach ($arguments in $forms) {
                (Invoke-QmpCommand $socket qom-get -Arguments $arguments -ErrorAction Stop).Return | Should -BeLike '*q35*'
            }
        }

        It 'refuses arguments that are not an object, naming them' {
            Invoke-QmpCommand $socket qom-get -Arguments 5 -ErrorVariable problem -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $problem.Count | Should -Be 1
            $problem[0].FullyQualifiedErrorId | Should -BeLike 'QmpArgumentsInvalid,*'
            $problem[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        }
    }

    Context 'the reply' {
        It 'defect 18: Return is a PSCustomObject, not an OrderedDictionary shown as Name/Value rows' {
            $response = Invoke-QmpCommand $socket query-status
            $response | Should -BeOfType ([VmDebug.QmpResponse])
            $response.Return | Should -BeOfType ([System.Management.Automation.PSCustomObject])
            $response.Return.PSObject.Properties.Name | Should -Contain 'status'
            $response.Return.status | Should -Be 'running'
            $text = $response.Return | Out-String
            $text | Should -Not -Match 'Name\s+Value'
            $text | Should -Match 'status'
            $text | Should -Match 'running'
        }

        It 'arrays of objects in the reply select like ConvertFrom-Json output' {
            $names = (Invoke-QmpCommand $socket query-commands).Return.name
            $names | Should -Contain 'query-status'
            $names | Should -Contain 'dump-guest-memory'
        }

        It 'renders the default view at 80 and 120 columns with command, socket and reply' {
            $response = Invoke-QmpCommand $socket query-status
            foreach ($width in 80, 120) {
                $text = $response | Out-String -Width $width
                $text | Should -Match 'Command\s*:\s*query-status'
                $text | Should -Match 'QmpSocket\s*:\s*/'
                $text | Should -Match 'Return\s*:\s*\{.*"status"'
            }
        }

        It 'works under Set-StrictMode -Version Latest' {
            Set-StrictMode -Version Latest
            try {
                $response = Invoke-QmpCommand $socket query-status
                $response.Return.status | Should -Be 'running'
                $response.Duration | Should -BeGreaterThan ([TimeSpan]::Zero)
                $response | Out-String | Should -Match 'query-status'
            }
            finally { Set-StrictMode -Off }
        }
    }

    Context 'confirmation' {
        BeforeEach { $ps = New-TestPowerShell }
        AfterEach {
            Remove-TestPowerShell $ps
            if ((Get-TestGuestStatus $guest) -ne 'running') { Invoke-QmpCommand $socket cont -Confirm:$false | Out-Null }
        }

        It 'defect 18: declares ConfirmImpact High' {
            $attribute = (Get-Command Invoke-QmpCommand).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $true)
            $attribute.ConfirmImpact | Should -Be 'High'
        }

        It 'defect 18: <_> asks for confirmation; without a host to ask, nothing is sent' -ForEach 'stop', 'system_reset', 'quit' {
            $null = $ps.AddCommand('Invoke-QmpCommand').AddParameter('QmpSocket', $socket).AddParameter('Command', $_)
            { $ps.Invoke() } | Should -Throw '*prompt*'
            Get-TestGuestStatus $guest | Should -Be 'running'
            $guest.Process.HasExited | Should -BeFalse
        }

        It 'queries run without asking' {
            $null = $ps.AddCommand('Invoke-QmpCommand').AddParameter('QmpSocket', $socket).AddParameter('Command', 'query-status')
            $result = $ps.Invoke()
            $ps.HadErrors | Should -BeFalse
            $result[0].Return.status | Should -Be 'running'
        }

        It '-Confirm:$false runs a state-changing command' {
            Invoke-QmpCommand $socket stop -Confirm:$false | Out-Null
            Get-TestGuestStatus $guest | Should -Be 'paused'
        }

        It '-WhatIf sends nothing, for state-changing commands and queries alike' {
            Invoke-QmpCommand $socket stop -WhatIf | Should -BeNullOrEmpty
            Invoke-QmpCommand $socket query-status -WhatIf | Should -BeNullOrEmpty
            Get-TestGuestStatus $guest | Should -Be 'running'
        }
    }

    Context 'errors' {
        It 'a QMP error is one non-terminating ErrorRecord with a stable id, category and the socket as target' {
            $after = $false
            Invoke-QmpCommand $socket no-such-command -ErrorVariable problem -ErrorAction SilentlyContinue -Confirm:$false
            $after = $true
            $after | Should -BeTrue
            $problem.Count | Should -Be 1
            $problem[0].FullyQualifiedErrorId | Should -Be 'QmpCommandFailed,VmDebug.Commands.InvokeQmpCommandCommand'
            $problem[0].CategoryInfo.Category | Should -Be 'NotImplemented'
            $problem[0].TargetObject | Should -Be $socket
            $problem[0].Exception.Message | Should -Match 'no-such-command'
        }

        It 'one bad socket among several inputs gives one error and the other replies' {
            $missing = Join-Path $guest.Directory 'missing.sock'
            $responses = [pscustomobject]@{ QmpSocket = $socket }, [pscustomobject]@{ QmpSocket = $missing }, [pscustomobject]@{ QmpSocket = $socket } |
                Invoke-QmpCommand -Command query-status -ErrorVariable problem -ErrorAction SilentlyContinue
            $responses.Count | Should -Be 2
            $problem.Count | Should -Be 1
            $problem[0].TargetObject | Should -Be $missing
            $problem[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }

        It '-ErrorAction Stop makes it terminating' {
            { Invoke-QmpCommand $socket no-such-command -ErrorAction Stop -Confirm:$false } | Should -Throw -ErrorId 'QmpCommandFailed,*'
        }
    }

    Context 'tab completion' {
        It 'defect 12: -Command completes names from query-commands once -QmpSocket is bound' {
            $line = "Invoke-QmpCommand -QmpSocket '$socket' -Command query-st"
            $names = @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | ForEach-Object CompletionText)
            $names | Should -Contain 'query-status'
            $names | Should -Not -Contain 'stop'
        }

        It 'completes nothing, quickly, without a socket' {
            $line = 'Invoke-QmpCommand -Command query-st'
            $clock = [Diagnostics.Stopwatch]::StartNew()
            @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | ForEach-Object CompletionText) |
                Should -Not -Contain 'query-status'
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
        }
    }
}

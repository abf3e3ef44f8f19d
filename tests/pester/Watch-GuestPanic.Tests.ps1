#Requires -Version 7.4
# Watch-GuestPanic, Get-GuestCrash and Remove-GuestCrash against a real guest (QEMU under TCG) that panics.

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-VmDebugModule
    $guest = Start-TestGuest -MemoryMiB 256 -PanicAfter 0
    $archive = Join-Path (New-TestDirectory 'vmdebug-archive-') 'crashes'
    $verbose = $null
    $crash = Watch-GuestPanic -QmpSocket $guest.QmpSocket -ArchivePath $archive -Count 1 -Timeout 240 -ErrorAction Stop -Verbose 4>&1 |
        Tee-Object -Variable verbose | Where-Object { $_ -is [VmDebug.GuestCrash] }
}

AfterAll { Remove-TestArtifacts }

Describe 'Watch-GuestPanic -Count 1' {
    It 'writes one GuestCrash when the capture is complete, and stops' {
        @($crash).Count | Should -Be 1
        $crash | Should -BeOfType ([VmDebug.GuestCrash])
        $crash.PanicMessage | Should -Be 'sysrq triggered crash'
        $crash.KernelRelease | Should -Be (Get-Content (Join-Path (Get-TestGuestDirectory) 'release') -Raw).Trim()
        $crash.BuildId | Should -Match '^[0-9a-f]{40}$'
        $crash.DumpFormat | Should -Be 'KdumpZstd'
        $crash.DumpBytes | Should -Be (Get-Item (Join-Path $crash.Path $crash.DumpFile)).Length
        Join-Path $crash.Path 'crash.json' | Should -Exist
        Join-Path $crash.Path 'dmesg.txt' | Should -Exist
        Get-TestGuestStatus $guest | Should -Be 'guest-panicked' # -After Leave
    }

    It 'reports what it watches and captures as verbose messages' {
        $messages = @($verbose | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        ($messages -match ' Watching: Watching ').Count | Should -BeGreaterThan 0
        ($messages -match 'CaptureStarted').Count | Should -Be 1
        ($messages -match 'CaptureCompleted').Count | Should -Be 1
    }

    It 'shows the crash in a table readable at 80 columns' {
        $text = $crash | Out-String -Width 80
        $text | Should -Match ('\d{4}-\d\d-\d\d \d\d:\d\d:\d\d .* sysrq triggered crash')
        $text -split "`n" | ForEach-Object { $_.TrimEnd().Length | Should -BeLessOrEqual 80 }
    }

    It 'refuses an archive path that is a file, as one error' {
        $file = Join-Path (New-TestDirectory) 'not-a-directory'
        Set-Content -Path $file -Value x
        $errors = $null
        Watch-GuestPanic -QmpSocket $guest.QmpSocket -ArchivePath $file -Timeout 5 -ErrorVariable errors -ErrorAction SilentlyContinue
        @($errors).Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'ArchiveNotDirectory*'
    }
}

Describe 'Bad arguments are one typed error each' {
    It 'Watch-GuestPanic -Debuginfod: one DebuginfodUrlInvalid per value that is no http(s) URL, and no watcher starts' {
        $unstarted = Join-Path (New-TestDirectory) 'archive'
        $errors = $null
        Watch-GuestPanic -QmpSocket $guest.QmpSocket -ArchivePath $unstarted -Debuginfod 'ftp://debuginfod.example', 'http://localhost:8002', 'not a url' -Timeout 5 -ErrorVariable errors -ErrorAction SilentlyContinue |
            Should -BeNullOrEmpty
        @($errors).Count | Should -Be 2
        $errors | ForEach-Object {
            $_.FullyQualifiedErrorId | Should -BeLike 'DebuginfodUrlInvalid,*'
            $_.CategoryInfo.Category | Should -Be 'InvalidArgument'
        }
        $errors[0].TargetObject | Should -Be 'ftp://debuginfod.example'
        $errors[0].Exception.Message | Should -Match "'ftp://debuginfod\.example' is not a debuginfod server URL: its scheme is ftp"
        $errors[1].TargetObject | Should -Be 'not a url'
        $unstarted | Should -Not -Exist
    }

    It 'Get-GuestCrash -After: a string that is no date is a binding error naming it (InvalidArgument)' {
        $failure = $null
        try { Get-GuestCrash -ArchivePath $archive -After 'yesterday-ish' -ErrorAction Stop } catch { $failure = $_ }
        $failure | Should -Not -BeNullOrEmpty
        $failure.FullyQualifiedErrorId | Should -BeLike 'CannotConvertArgumentNoMessage,*GetGuestCrashCommand'
        $failure.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $failure.Exception.Message | Should -Match "'After'.*yesterday-ish"
    }
}

Describe 'Get-GuestCrash' {
    It 'lists the archived crash from its crash.json' {
        $listed = @(Get-GuestCrash -ArchivePath $archive)
        $listed.Count | Should -Be 1
        $listed[0].Path | Should -Be $crash.Path
        $listed[0].PanicMessage | Should -Be $crash.PanicMessage
        $listed[0].BuildId | Should -Be $crash.BuildId
    }

    It 'filters by guest and time' {
        @(Get-GuestCrash -ArchivePath $archive -Guest $crash.Guest).Count | Should -Be 1
        @(Get-GuestCrash -ArchivePath $archive -Guest 'no-such-guest').Count | Should -Be 0
        @(Get-GuestCrash -ArchivePath $archive -After $crash.PanicTime.UtcDateTime.AddMinutes(1)).Count | Should -Be 0
        @(Get-GuestCrash -ArchivePath $archive -After $crash.PanicTime.UtcDateTime.AddMinutes(-1)).Count | Should -Be 1
    }

    It 'says so when the archive does not exist' {
        $errors = $null
        Get-GuestCrash -ArchivePath (Join-Path $archive 'missing') -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'ArchiveNotFound*'
    }
}

Describe 'Remove-GuestCrash' {
    It '-WhatIf removes nothing and names the crash' {
        Get-GuestCrash -ArchivePath $archive | Remove-GuestCrash -WhatIf | Should -BeNullOrEmpty
        # The What if: line goes to the host, so a child pwsh shows it on its stdout.
        $whatIf = & (Get-TestPwshPath) -NoProfile -NonInteractive -Command (
            "Import-Module '$(Get-VmDebugModulePath)'; Get-GuestCrash -ArchivePath '$archive' | Remove-GuestCrash -WhatIf") | Out-String
        $whatIf | Should -Match 'What if:'
        $whatIf | Should -Match ([regex]::Escape($crash.Path))
        $crash.Path | Should -Exist
    }

    It 'removes the piped crash, and -PassThru returns it' {
        $removed = Get-GuestCrash -ArchivePath $archive | Remove-GuestCrash -PassThru -Confirm:$false
        $removed.Path | Should -Be $crash.Path
        $crash.Path | Should -Not -Exist
        @(Get-GuestCrash -ArchivePath $archive).Count | Should -Be 0
    }

    It 'refuses a folder that is no archived crash, as one error' {
        $errors = $null
        Remove-GuestCrash -LiteralPath $archive -Confirm:$false -ErrorVariable errors -ErrorAction SilentlyContinue
        @($errors).Count | Should -Be 1
        $archive | Should -Exist
    }
}

# Domains defined (not started) in the private libvirtd of common.ps1, for tests that need names to complete or look up.
# Dot-source after common.ps1.

function Add-TestDomain($Daemon, [string[]] $Name) {
    $virsh = Find-TestTool 'virsh'
    if (-not $virsh) { throw (Get-MissingToolReason 'virsh') }
    foreach ($domain in $Name) {
        $xml = Join-Path $Daemon.RootDirectory "$domain.xml"
        Set-Content -LiteralPath $xml -Value @"
<domain type='qemu'>
  <name>$([Security.SecurityElement]::Escape($domain))</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices>
</domain>
"@
        $output = & $virsh -c $Daemon.Uri define $xml 2>&1
        if ($LASTEXITCODE) { throw "virsh define $domain failed: $output" }
    }
}

# The completion texts TabExpansion2 offers at the end of $Line.
function Get-TestCompletion([string] $Line) {
    @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches | ForEach-Object CompletionText)
}

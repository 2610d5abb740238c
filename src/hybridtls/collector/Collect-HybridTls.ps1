<#
.SYNOPSIS
    Collects the evidence 'hybridtls check' reads, from every Exchange server, into one folder per server, and zips it.

.DESCRIPTION
    Run it in the Exchange Management Shell. For every Exchange server (Get-ExchangeServer, Edge Transport servers
    excepted) it saves, in a folder named exactly as the server:
      Get-ExchangeCertificate, Get-ReceiveConnector, Get-TransportService, Get-Queue;
      the LocalMachine AuthRoot, Root and CA certificate stores (Invoke-Command, Get-ChildItem Cert:\...);
      the transport's certificate events and Schannel's (Get-WinEvent -ComputerName);
      the last -Days of SMTP protocol logs (FrontEnd receive and send, Hub send), copied through the admin share.
    Once for the organization, in 'onprem': Get-SendConnector, Get-HybridConfiguration.
    When this shell is also connected to Exchange Online (Connect-ExchangeOnline, without -Prefix), in
    'exchange-online': Get-InboundConnector, Get-OutboundConnector, and the last 48 hours of Pending and Failed
    message trace (Get-MessageTraceV2 -Status) with the trace details of up to 50 of those messages.
    Each item is written twice: Format-List text (.txt) and CliXML (.clixml). The folder is then zipped.

    It only reads: it changes no configuration. It never collects message content (the message trace's Subject is
    left out) or credentials. What it could not collect is listed at the end and in collector-log.txt.

    Then: hybridtls check <the folder or the unzipped archive>

.PARAMETER OutputFolder
    Where to write the evidence (default: hybridtls-evidence-<date>-<time> in the current folder). The archive is
    written beside it, as <OutputFolder>.zip.

.PARAMETER Servers
    Only these Exchange servers (names as Get-ExchangeServer shows them). Default: every server.

.PARAMETER Days
    How many days of events and protocol logs to collect (default 1).

.EXAMPLE
    .\Collect-HybridTls.ps1

.EXAMPLE
    .\Collect-HybridTls.ps1 -Servers EXCAS1, EXMBX1 -Days 2 -OutputFolder C:\hybridtls-evidence

.EXAMPLE
    .\Collect-HybridTls.ps1 -WhatIf
#>
[CmdletBinding(SupportsShouldProcess = $true)]
param(
    [string]$OutputFolder = (Join-Path -Path (Get-Location).ProviderPath -ChildPath ('hybridtls-evidence-' + (Get-Date -Format 'yyyyMMdd-HHmmss'))),
    [string[]]$Servers = @(),
    [ValidateRange(1, 30)]
    [int]$Days = 1
)

# As PowerShell resolves it: .NET resolves a relative path against another current folder.
$OutputFolder = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutputFolder)
$TransportEventIds = @(12012, 12013, 12014, 12015, 12016, 12017, 12018, 12019, 12023, 12024, 1035)
$EventProperties = @('TimeCreated', 'ProviderName', 'Id', 'LevelDisplayName', 'MachineName', 'Message')
# Added by remoting: the Exchange server this shell is connected to, not the server an object belongs to.
$RemotingProperties = @('PSComputerName', 'PSShowComputerName', 'RunspaceId')
$MaxTraceDetails = 50
$Since = (Get-Date).AddDays(-$Days)

$Collected = New-Object -TypeName System.Collections.Generic.List[string]
$NotCollected = New-Object -TypeName System.Collections.Generic.List[string]
$LogLines = New-Object -TypeName System.Collections.Generic.List[string]

function Write-CollectorLog {
    param([Parameter(Mandatory = $true)][string]$Status, [Parameter(Mandatory = $true)][string]$Message)
    $line = '{0} {1} {2}' -f (Get-Date -Format 'yyyy-MM-ddTHH:mm:ss'), $Status, $Message
    $LogLines.Add($line)
    if ($Status -eq 'NOT-COLLECTED') {
        Write-Warning -Message $Message
    }
    else {
        Write-Verbose -Message $line
    }
}

function Add-Collected {
    param([string]$What)
    $Collected.Add($What)
    Write-CollectorLog -Status 'COLLECTED' -Message $What
}

function Add-NotCollected {
    param([string]$What, [string]$Why)
    $NotCollected.Add(('{0}: {1}' -f $What, $Why))
    Write-CollectorLog -Status 'NOT-COLLECTED' -Message ('{0}: {1}' -f $What, $Why)
}

function Save-Evidence {
    <# Runs one read-only command and saves what it returns as Format-List text and as CliXML. #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param(
        [Parameter(Mandatory = $true)][string]$Folder,
        [Parameter(Mandatory = $true)][string]$FileName,
        [Parameter(Mandatory = $true)][string]$Description,
        [Parameter(Mandatory = $true)][scriptblock]$Command,
        [string[]]$ListProperties = @('*')
    )
    $textPath = Join-Path -Path $Folder -ChildPath ($FileName + '.txt')
    if (-not $PSCmdlet.ShouldProcess($textPath, $Description)) {
        return
    }
    $ErrorActionPreference = 'Stop'
    try {
        $objects = @(& $Command)
    }
    catch {
        if ($_.FullyQualifiedErrorId -like 'NoMatchingEventsFound*') {
            Write-CollectorLog -Status 'NONE' -Message ('{0}: no matching events' -f $Description)
        }
        else {
            Add-NotCollected -What $Description -Why $_.Exception.Message
        }
        return
    }
    if ($objects.Count -eq 0) {
        Write-CollectorLog -Status 'NONE' -Message ('{0}: returned nothing' -f $Description)
        return
    }
    try {
        $null = New-Item -ItemType Directory -Path $Folder -Force
        $objects | Select-Object -Property * -ExcludeProperty $RemotingProperties |
            Format-List -Property $ListProperties |
            Out-File -FilePath $textPath -Width 4096 -Encoding utf8
        $objects | Export-Clixml -Path (Join-Path -Path $Folder -ChildPath ($FileName + '.clixml')) -Encoding UTF8
        Add-Collected -What ('{0} ({1} objects)' -f $Description, $objects.Count)
    }
    catch {
        Add-NotCollected -What $Description -Why $_.Exception.Message
    }
}

function Save-CertificateStores {
    <# The LocalMachine AuthRoot, Root and CA stores of one server, listed on the server itself (one session). #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)][string]$Computer, [Parameter(Mandatory = $true)][string]$Folder)
    $description = 'Get-ChildItem Cert:\LocalMachine\AuthRoot, Root, CA on {0}' -f $Computer
    if (-not $PSCmdlet.ShouldProcess($Folder, $description)) {
        return
    }
    try {
        $session = New-PSSession -ComputerName $Computer -ErrorAction Stop
    }
    catch {
        Add-NotCollected -What $description -Why $_.Exception.Message
        return
    }
    try {
        foreach ($store in @('AuthRoot', 'Root', 'CA')) {
            $storePath = 'Cert:\LocalMachine\' + $store
            $what = '{0} on {1}' -f $storePath, $Computer
            $fileName = 'Cert-LocalMachine-' + $store
            try {
                # Formatted on the server: what comes back through remoting is a copy, one level deep.
                $text = Invoke-Command -Session $session -ErrorAction Stop -ArgumentList $storePath -ScriptBlock {
                    param($Path)
                    $global:FormatEnumerationLimit = -1
                    Get-ChildItem -Path $Path | Format-List -Property * | Out-String -Width 4096
                }
                $certificates = @(Invoke-Command -Session $session -ErrorAction Stop -ArgumentList $storePath -ScriptBlock {
                        param($Path)
                        Get-ChildItem -Path $Path
                    })
                if ($certificates.Count -eq 0) {
                    Write-CollectorLog -Status 'NONE' -Message ('{0}: no certificates' -f $what)
                    continue
                }
                $null = New-Item -ItemType Directory -Path $Folder -Force
                $text | Out-File -FilePath (Join-Path -Path $Folder -ChildPath ($fileName + '.txt')) -Width 4096 -Encoding utf8
                $certificates | Export-Clixml -Path (Join-Path -Path $Folder -ChildPath ($fileName + '.clixml')) -Encoding UTF8
                Add-Collected -What ('{0} ({1} certificates)' -f $what, $certificates.Count)
            }
            catch {
                Add-NotCollected -What $what -Why $_.Exception.Message
            }
        }
    }
    finally {
        Remove-PSSession -Session $session
    }
}

function ConvertTo-AdminSharePath {
    <# C:\Program Files\... on a server, as \\server\C$\Program Files\... #>
    param([Parameter(Mandatory = $true)][string]$Computer, [Parameter(Mandatory = $true)][string]$LocalPath)
    if ($LocalPath -notmatch '^[A-Za-z]:\\') {
        throw ('not a local path: {0}' -f $LocalPath)
    }
    return ('\\{0}\{1}$' -f $Computer, $LocalPath.Substring(0, 1)) + $LocalPath.Substring(2)
}

function Copy-ProtocolLog {
    <# The protocol log files of one folder written since -Days ago, copied whole (they may be open for writing). #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param(
        [Parameter(Mandatory = $true)][string]$Computer,
        [string]$LocalPath,
        [Parameter(Mandatory = $true)][string]$Destination,
        [Parameter(Mandatory = $true)][string]$Description
    )
    if (-not $LocalPath) {
        Add-NotCollected -What $Description -Why 'the protocol log path is not set'
        return
    }
    if (-not $PSCmdlet.ShouldProcess($Destination, ('Copy {0} from {1}' -f $Description, $LocalPath))) {
        return
    }
    try {
        $share = ConvertTo-AdminSharePath -Computer $Computer -LocalPath $LocalPath
        $files = @(Get-ChildItem -LiteralPath $share -Filter '*.LOG' -ErrorAction Stop |
                Where-Object { -not $_.PSIsContainer -and $_.LastWriteTime -ge $Since })
    }
    catch {
        Add-NotCollected -What $Description -Why $_.Exception.Message
        return
    }
    if ($files.Count -eq 0) {
        Write-CollectorLog -Status 'NONE' -Message ('{0}: no log files written since {1:yyyy-MM-dd HH:mm}' -f $Description, $Since)
        return
    }
    $copied = 0
    foreach ($file in $files) {
        try {
            $null = New-Item -ItemType Directory -Path $Destination -Force
            $source = [System.IO.File]::Open($file.FullName, 'Open', 'Read', 'ReadWrite')
            try {
                $target = [System.IO.File]::Create((Join-Path -Path $Destination -ChildPath $file.Name))
                try {
                    $source.CopyTo($target)
                }
                finally {
                    $target.Dispose()
                }
            }
            finally {
                $source.Dispose()
            }
            $copied += 1
        }
        catch {
            Add-NotCollected -What ('{0}: {1}' -f $Description, $file.Name) -Why $_.Exception.Message
        }
    }
    Add-Collected -What ('{0} ({1} of {2} files)' -f $Description, $copied, $files.Count)
}

function Test-ExchangeOnline {
    <# Whether this shell can run Exchange Online's cmdlets without a prefix; the reason when not. #>
    if (Get-Command -Name Get-ConnectionInformation -ErrorAction SilentlyContinue) {
        $connections = @(Get-ConnectionInformation | Where-Object { $_.State -eq 'Connected' -and -not $_.IsEopSession })
        if ($connections.Count -eq 0) {
            return 'not connected (Connect-ExchangeOnline, then run this script again)'
        }
        $prefixed = @($connections | Where-Object { $_.ModulePrefix })
        if ($prefixed.Count -eq $connections.Count) {
            return ('connected with -Prefix {0}: connect without -Prefix to collect it' -f $prefixed[0].ModulePrefix)
        }
    }
    if (-not (Get-Command -Name Get-OutboundConnector -ErrorAction SilentlyContinue)) {
        return 'not connected (Connect-ExchangeOnline, then run this script again)'
    }
    return ''
}

$previousLimit = $global:FormatEnumerationLimit
$global:FormatEnumerationLimit = -1
try {
    # --- Exchange servers -------------------------------------------------------------------------------------------
    $exchangeServers = @()
    if (Get-Command -Name Get-ExchangeServer -ErrorAction SilentlyContinue) {
        try {
            $exchangeServers = @(Get-ExchangeServer -ErrorAction Stop)
        }
        catch {
            Add-NotCollected -What 'Get-ExchangeServer' -Why $_.Exception.Message
        }
    }
    else {
        Add-NotCollected -What 'Exchange on-premises' -Why 'Get-ExchangeServer is not available: run this script in the Exchange Management Shell'
    }
    if ($Servers.Count -gt 0) {
        foreach ($wanted in $Servers) {
            if (-not @($exchangeServers | Where-Object { $_.Name -eq $wanted -or $_.Fqdn -eq $wanted })) {
                Add-NotCollected -What ('server {0}' -f $wanted) -Why 'Get-ExchangeServer does not list it'
            }
        }
        $exchangeServers = @($exchangeServers | Where-Object { $Servers -contains $_.Name -or $Servers -contains $_.Fqdn })
    }

    foreach ($exchangeServer in $exchangeServers) {
        $serverName = [string]$exchangeServer.Name
        $serverFqdn = [string]$exchangeServer.Fqdn
        if (-not $serverFqdn) {
            $serverFqdn = $serverName
        }
        if ($exchangeServer.IsEdgeServer) {
            Add-NotCollected -What ('Edge Transport server {0}' -f $serverName) -Why 'not reachable from here: run this script in the Exchange Management Shell on the Edge server itself'
            continue
        }
        Write-Progress -Activity 'Collecting hybridtls evidence' -Status $serverName
        $serverFolder = Join-Path -Path $OutputFolder -ChildPath $serverName

        Save-Evidence -Folder $serverFolder -FileName 'Get-ExchangeCertificate' -Description ('Get-ExchangeCertificate -Server {0}' -f $serverName) -Command {
            Get-ExchangeCertificate -Server $serverName
        }
        Save-Evidence -Folder $serverFolder -FileName 'Get-ReceiveConnector' -Description ('Get-ReceiveConnector -Server {0}' -f $serverName) -Command {
            Get-ReceiveConnector -Server $serverName
        }
        $transport = $null
        if ($exchangeServer.IsHubTransportServer) {
            Save-Evidence -Folder $serverFolder -FileName 'Get-TransportService' -Description ('Get-TransportService -Identity {0}' -f $serverName) -Command {
                Get-TransportService -Identity $serverName
            }
            Save-Evidence -Folder $serverFolder -FileName 'Get-Queue' -Description ('Get-Queue -Server {0}' -f $serverName) -Command {
                Get-Queue -Server $serverName
            }
            try {
                $transport = Get-TransportService -Identity $serverName -ErrorAction Stop
            }
            catch {
                Add-NotCollected -What ('the Hub protocol log path of {0}' -f $serverName) -Why $_.Exception.Message
            }
        }
        Save-CertificateStores -Computer $serverFqdn -Folder $serverFolder
        Save-Evidence -Folder $serverFolder -FileName 'Get-WinEvent-Application' -Description ('Get-WinEvent -ComputerName {0} (Application: transport certificate events)' -f $serverFqdn) -ListProperties $EventProperties -Command {
            Get-WinEvent -ComputerName $serverFqdn -FilterHashtable @{ LogName = 'Application'; Id = $TransportEventIds; StartTime = $Since }
        }
        Save-Evidence -Folder $serverFolder -FileName 'Get-WinEvent-Schannel' -Description ('Get-WinEvent -ComputerName {0} (System: Schannel)' -f $serverFqdn) -ListProperties $EventProperties -Command {
            Get-WinEvent -ComputerName $serverFqdn -MaxEvents 2000 -FilterHashtable @{ LogName = 'System'; ProviderName = 'Schannel'; StartTime = $Since }
        }

        if ($transport) {
            Copy-ProtocolLog -Computer $serverFqdn -LocalPath ([string]$transport.SendProtocolLogPath) -Description ('Hub SmtpSend protocol logs of {0}' -f $serverName) -Destination (Join-Path -Path $serverFolder -ChildPath 'Hub\ProtocolLog\SmtpSend')
        }
        if ($exchangeServer.IsFrontendTransportServer) {
            try {
                $frontend = Get-FrontendTransportService -Identity $serverName -ErrorAction Stop
                Copy-ProtocolLog -Computer $serverFqdn -LocalPath ([string]$frontend.ReceiveProtocolLogPath) -Description ('FrontEnd SmtpReceive protocol logs of {0}' -f $serverName) -Destination (Join-Path -Path $serverFolder -ChildPath 'FrontEnd\ProtocolLog\SmtpReceive')
                Copy-ProtocolLog -Computer $serverFqdn -LocalPath ([string]$frontend.SendProtocolLogPath) -Description ('FrontEnd SmtpSend protocol logs of {0}' -f $serverName) -Destination (Join-Path -Path $serverFolder -ChildPath 'FrontEnd\ProtocolLog\SmtpSend')
            }
            catch {
                Add-NotCollected -What ('the FrontEnd protocol log paths of {0}' -f $serverName) -Why $_.Exception.Message
            }
        }
    }
    Write-Progress -Activity 'Collecting hybridtls evidence' -Completed

    # --- The organization --------------------------------------------------------------------------------------------
    if ($exchangeServers.Count -gt 0) {
        $onpremFolder = Join-Path -Path $OutputFolder -ChildPath 'onprem'
        Save-Evidence -Folder $onpremFolder -FileName 'Get-SendConnector' -Description 'Get-SendConnector' -Command {
            Get-SendConnector
        }
        Save-Evidence -Folder $onpremFolder -FileName 'Get-HybridConfiguration' -Description 'Get-HybridConfiguration' -Command {
            Get-HybridConfiguration
        }
    }

    # --- Exchange Online ---------------------------------------------------------------------------------------------
    $notOnline = Test-ExchangeOnline
    if ($notOnline) {
        Add-NotCollected -What 'Exchange Online (Get-InboundConnector, Get-OutboundConnector, Get-MessageTraceV2)' -Why $notOnline
    }
    else {
        $onlineFolder = Join-Path -Path $OutputFolder -ChildPath 'exchange-online'
        $traceEnd = Get-Date
        $traceStart = $traceEnd.AddHours(-48)
        Save-Evidence -Folder $onlineFolder -FileName 'Get-InboundConnector' -Description 'Get-InboundConnector' -Command {
            Get-InboundConnector
        }
        Save-Evidence -Folder $onlineFolder -FileName 'Get-OutboundConnector' -Description 'Get-OutboundConnector' -Command {
            Get-OutboundConnector
        }
        $undelivered = New-Object -TypeName System.Collections.Generic.List[object]
        foreach ($status in @('Pending', 'Failed')) {
            Save-Evidence -Folder $onlineFolder -FileName ('Get-MessageTraceV2-' + $status) -Description ('Get-MessageTraceV2 -Status {0} (48 hours, without Subject)' -f $status) -Command {
                if (Get-Command -Name Get-MessageTraceV2 -ErrorAction SilentlyContinue) {
                    $entries = @(Get-MessageTraceV2 -Status $status -StartDate $traceStart -EndDate $traceEnd -ResultSize 5000)
                }
                else {
                    $entries = @(Get-MessageTrace -Status $status -StartDate $traceStart -EndDate $traceEnd -PageSize 5000)
                }
                foreach ($entry in $entries) {
                    $undelivered.Add($entry)
                }
                $entries | Select-Object -Property * -ExcludeProperty Subject
            }
        }
        if ($undelivered.Count -gt 0 -and (Get-Command -Name Get-MessageTraceDetailV2 -ErrorAction SilentlyContinue)) {
            Save-Evidence -Folder $onlineFolder -FileName 'Get-MessageTraceDetailV2' -Description ('Get-MessageTraceDetailV2 (the first {0} Pending or Failed messages)' -f $MaxTraceDetails) -Command {
                foreach ($entry in @($undelivered | Select-Object -First $MaxTraceDetails)) {
                    Get-MessageTraceDetailV2 -MessageTraceId $entry.MessageTraceId -RecipientAddress $entry.RecipientAddress
                }
            }
        }
    }
}
finally {
    $global:FormatEnumerationLimit = $previousLimit
}

# --- Summary, log and archive ----------------------------------------------------------------------------------------
$summary = New-Object -TypeName System.Collections.Generic.List[string]
$summary.Add(('hybridtls collector: {0} items collected, {1} not collected' -f $Collected.Count, $NotCollected.Count))
foreach ($item in $NotCollected) {
    $summary.Add(('  not collected: {0}' -f $item))
}
if ($PSCmdlet.ShouldProcess((Join-Path -Path $OutputFolder -ChildPath 'collector-log.txt'), 'Write the collector log')) {
    $null = New-Item -ItemType Directory -Path $OutputFolder -Force
    $header = @('# hybridtls collector log', ('# Started by {0} on {1}; -Days {2}' -f $env:USERNAME, $env:COMPUTERNAME, $Days))
    @($header + $LogLines + $summary) | Out-File -FilePath (Join-Path -Path $OutputFolder -ChildPath 'collector-log.txt') -Width 4096 -Encoding utf8
}
$archive = $OutputFolder.TrimEnd('\') + '.zip'
if ($PSCmdlet.ShouldProcess($archive, 'Compress the evidence folder')) {
    try {
        Compress-Archive -Path (Join-Path -Path $OutputFolder -ChildPath '*') -DestinationPath $archive -Force -ErrorAction Stop
        $summary.Add(('Evidence: {0}' -f $archive))
    }
    catch {
        $summary.Add(('  not collected: the archive {0}: {1}' -f $archive, $_.Exception.Message))
        $summary.Add(('Evidence: {0}' -f $OutputFolder))
    }
    $summary.Add('Next: hybridtls check <the unzipped folder>')
}
foreach ($line in $summary) {
    Write-Host $line
}

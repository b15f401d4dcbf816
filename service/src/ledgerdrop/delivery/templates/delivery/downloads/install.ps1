{% autoescape off %}# Installs the Ledgerdrop downloader for Windows from {{ server }}: the self-contained zip
# (its own Python, nothing else to install) under your programs folder - or, run as an
# administrator, under the machine's - then pairs this PC with the firm and registers the
# scheduled task that starts it with Windows and restarts it after a failure.
#
#   $env:LEDGERDROP_ENROLMENT_KEY='<key>'; irm <server>/downloads/agent/install.ps1 | iex
#
# Optional, as environment variables: LEDGERDROP_DEVICE_NAME (how the PC is listed),
# LEDGERDROP_INSTALL_DIR, LEDGERDROP_AGENT_HOME (where the downloader keeps its state).
# Without LEDGERDROP_ENROLMENT_KEY, pairing shows a code to enter under "Download devices".
& {
    $ErrorActionPreference = 'Stop'
    $ProgressPreference = 'SilentlyContinue'  # the progress bar slows downloads tenfold
    [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12

    $Server = {{ server }}
    $AgentVersion = {{ agent_version }}
    # The key is read once and removed from the environment: it is written to no file, and
    # no program started later inherits it.
    $EnrolmentKey = $env:LEDGERDROP_ENROLMENT_KEY
    Remove-Item Env:\LEDGERDROP_ENROLMENT_KEY -ErrorAction SilentlyContinue

    function Stop-Install([string]$Message) {
        Write-Host "ledgerdrop install: $Message" -ForegroundColor Red
        throw $Message
    }

    $Principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
    $IsAdmin = $Principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
    if ($env:LEDGERDROP_INSTALL_DIR) {
        $Target = $env:LEDGERDROP_INSTALL_DIR
    } elseif ($IsAdmin) {
        $Target = Join-Path $env:ProgramFiles 'Ledgerdrop\Agent'
    } else {
        $Target = Join-Path $env:LOCALAPPDATA 'Programs\Ledgerdrop\Agent'
    }
    if ($IsAdmin -and -not $env:LEDGERDROP_AGENT_HOME) {
        # Installed for the machine: its state lives in ProgramData, where the task finds it.
        $env:LEDGERDROP_AGENT_HOME = Join-Path $env:ProgramData 'Ledgerdrop\Agent'
    }

    Write-Host "Installing the Ledgerdrop downloader $AgentVersion from $Server into $Target"
    $Scratch = Join-Path ([IO.Path]::GetTempPath()) ('ledgerdrop-' + [guid]::NewGuid())
    New-Item -ItemType Directory -Path $Scratch | Out-Null
    try {
        $Zip = Join-Path $Scratch 'ledgerdrop-agent-windows.zip'
        try {
            Invoke-WebRequest -UseBasicParsing -Uri "$Server/downloads/agent/ledgerdrop-agent-windows.zip" -OutFile $Zip
        } catch {
            Stop-Install "could not download $Server/downloads/agent/ledgerdrop-agent-windows.zip: $($_.Exception.Message)"
        }
        $Unpacked = Join-Path $Scratch 'unpacked'
        Expand-Archive -Path $Zip -DestinationPath $Unpacked -Force
        # The launcher may sit at the top of the zip or in one folder inside it.
        $Launcher = Get-ChildItem -Path $Unpacked -Filter 'ledgerdrop-agent.cmd' -Recurse | Select-Object -First 1
        if (-not $Launcher) { Stop-Install 'the zip holds no ledgerdrop-agent.cmd.' }
        New-Item -ItemType Directory -Path $Target -Force | Out-Null
        try {
            Copy-Item -Path (Join-Path $Launcher.Directory.FullName '*') -Destination $Target -Recurse -Force
        } catch {
            Stop-Install "could not write $Target ($($_.Exception.Message)). If the downloader is running, stop it (Task Scheduler, or: ledgerdrop-agent.cmd service uninstall) and run this again."
        }
    } finally {
        Remove-Item -Path $Scratch -Recurse -Force -ErrorAction SilentlyContinue
    }
    $Agent = Join-Path $Target 'ledgerdrop-agent.cmd'
    Write-Host "Installed: $Agent"
    function Invoke-Agent([string[]]$Arguments) {
        # Windows PowerShell 5.1 turns what a program writes on stderr into errors, which
        # 'Stop' would throw: the exit code ($LASTEXITCODE) is what tells here.
        $ErrorActionPreference = 'Continue'
        & $Agent @Arguments
    }

    $null = Invoke-Agent @('status') 2>&1
    if ($LASTEXITCODE -eq 0) {
        Write-Host 'This PC is already paired; to pair it again: ledgerdrop-agent.cmd unpair, then run this again.'
    } else {
        $PairArguments = @('pair', '--server', $Server)
        if ($EnrolmentKey) { $PairArguments += @('--enrolment-key', $EnrolmentKey) }
        if ($env:LEDGERDROP_DEVICE_NAME) { $PairArguments += @('--name', $env:LEDGERDROP_DEVICE_NAME) }
        Invoke-Agent $PairArguments
        if ($LASTEXITCODE -ne 0) {
            Stop-Install 'pairing failed (see above). Create a new key on the firm''s page, then run this again.'
        }
    }
    $EnrolmentKey = $null

    # The scheduled task: starts the downloader with Windows and restarts it after a failure.
    # It runs as SYSTEM, which only an administrator may register.
    Invoke-Agent @('service', 'install')
    if ($LASTEXITCODE -ne 0) {
        if ($IsAdmin) {
            Stop-Install 'the downloader is paired but its scheduled task could not be registered (see above).'
        }
        Write-Host 'The downloader is installed and paired, but only an administrator can make it start with Windows.' -ForegroundColor Yellow
        Write-Host "In PowerShell opened as an administrator, run: & '$Agent' service install" -ForegroundColor Yellow
        Write-Host "Until then, start it by hand: & '$Agent' run"
        return
    }
    Write-Host "Done. Check it with: & '$Agent' status"
}
{% endautoescape %}

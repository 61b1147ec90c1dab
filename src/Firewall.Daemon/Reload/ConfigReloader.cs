using System.Text;
using Firewall.Core.Conntrack;
using Firewall.Core.Rules.Config;
using Firewall.Daemon.Engine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Firewall.Daemon.Reload;

/// <summary>The outcome of one reload attempt.</summary>
public sealed record ReloadResult(bool Applied, string Trigger, DateTimeOffset At, int Rules, IReadOnlyList<string> Errors)
{
    public string Summary => Applied ? $"applied ({Rules} rules)" : Errors.Count == 0 ? "unchanged" : "rejected: " + string.Join("; ", Errors);
}

/// <summary>
/// Reload (SIGHUP, <c>fwctl reload</c>, or the configuration file changing): re-reads the configuration, validates and
/// compiles the rules and the conntrack tunables, then swaps them in — tunables first (the one step that can still
/// refuse: Max above the allocated table), then the rule set in one reference exchange. The conntrack table is never
/// touched, so every tracked connection stays. A bad configuration is rejected with its reasons (each naming its key)
/// and the running one stays. Data path settings need a restart (a change is reported, not applied).
/// </summary>
public sealed partial class ConfigReloader : IDisposable
{
    private readonly IConfiguration _config;
    private readonly FirewallEngine _engine;
    private readonly ILogger<ConfigReloader> _log;
    private readonly Lock _gate = new();
    private readonly IDisposable? _watch;
    private readonly string _dataPathFingerprint;
    private string _appliedFingerprint;
    private Timer? _debounce;
    private volatile bool _selfReload;
    private ReloadResult? _last;

    public ConfigReloader(IConfiguration config, FirewallEngine engine, ILogger<ConfigReloader> log)
    {
        _config = config;
        _engine = engine;
        _log = log;
        _appliedFingerprint = Fingerprint("Firewall:Conntrack", "Firewall:Rules");
        _dataPathFingerprint = Fingerprint(Options.DataPathOptions.SectionPath);
        // the /etc file is watched (reloadOnChange): a change reloads after the writes settle
        _watch = ChangeToken.OnChange(config.GetReloadToken, () =>
        {
            if (_selfReload) return; // our own re-read (signal, control) is being applied right now
            lock (_gate)
            {
                _debounce?.Dispose();
                _debounce = new Timer(_ => Reload("file", rereadFiles: false), null, TimeSpan.FromMilliseconds(500), Timeout.InfiniteTimeSpan);
            }
        });
    }

    /// <summary>Raised around a reload: true when it starts (RELOADING=1), false when it ends (READY=1).</summary>
    public event Action<bool>? Reloading;

    /// <summary>The last reload attempt (null before any).</summary>
    public ReloadResult? Last => Volatile.Read(ref _last);

    /// <param name="trigger">"signal", "control" or "file" (for the log).</param>
    /// <param name="rereadFiles">Re-read the configuration files first (signal and control); a file change already did.</param>
    public ReloadResult Reload(string trigger, bool rereadFiles = true)
    {
        lock (_gate)
        {
            Reloading?.Invoke(true);
            try
            {
                if (rereadFiles && _config is IConfigurationRoot root)
                {
                    _selfReload = true;
                    try { root.Reload(); }
                    // options monitors re-validate on the change notification and throw for a bad file: the new
                    // values are loaded by then, and Apply below validates them and reports every problem by key
                    catch (Exception e) when (e is AggregateException or Microsoft.Extensions.Options.OptionsValidationException) { }
                    finally { _selfReload = false; }
                }
                string fp = Fingerprint("Firewall:Conntrack", "Firewall:Rules");
                if (trigger == "file" && fp == _appliedFingerprint)
                    return Remember(new ReloadResult(false, trigger, DateTimeOffset.UtcNow, _engine.Rules.Current.Rules.Count, []));
                var result = Apply(trigger);
                if (result.Applied) _appliedFingerprint = fp;
                return Remember(result);
            }
            finally
            {
                Reloading?.Invoke(false);
            }
        }
    }

    private ReloadResult Remember(ReloadResult r)
    {
        Volatile.Write(ref _last, r);
        return r;
    }

    private ReloadResult Apply(string trigger)
    {
        var errors = new List<string>();
        ConntrackOptions ct;
        FirewallRulesOptions rules;
        try
        {
            ct = _config.GetSection("Firewall:Conntrack").Get<ConntrackOptions>() ?? new ConntrackOptions();
            rules = _config.GetSection(FirewallRulesOptions.SectionPath).Get<FirewallRulesOptions>() ?? new FirewallRulesOptions();
        }
        catch (InvalidOperationException e)
        {
            // the binder names the key whose value does not convert
            errors.Add(e.InnerException is null ? e.Message : $"{e.Message} {e.InnerException.Message}");
            return Reject(trigger, errors);
        }
        errors.AddRange(ct.Validate("Firewall:Conntrack"));
        errors.AddRange(rules.Validate());
        if (errors.Count > 0) return Reject(trigger, errors);

        var set = FirewallEngine.CompileRules(rules, _engine.LogRing, out var compileErrors);
        if (set is null) return Reject(trigger, compileErrors);

        var settings = new ConntrackSettings(ct);
        try { _engine.Table.UpdateSettings(settings); }
        catch (ArgumentException e) { return Reject(trigger, [$"Firewall:Conntrack:Max: {e.Message}"]); }
        _engine.Rules.Swap(set);

        if (Fingerprint(Options.DataPathOptions.SectionPath) != _dataPathFingerprint)
            LogDataPathChangeIgnored(Options.DataPathOptions.SectionPath);
        LogReloaded(trigger, set.Rules.Count, _engine.Table.Count);
        return new ReloadResult(true, trigger, DateTimeOffset.UtcNow, set.Rules.Count, []);
    }

    private ReloadResult Reject(string trigger, List<string> errors)
    {
        LogRejected(trigger, errors.Count, string.Join("; ", errors));
        return new ReloadResult(false, trigger, DateTimeOffset.UtcNow, _engine.Rules.Current.Rules.Count, errors);
    }

    private string Fingerprint(params string[] sections)
    {
        var sb = new StringBuilder();
        foreach (var s in sections)
            foreach (var kv in _config.GetSection(s).AsEnumerable().OrderBy(kv => kv.Key, StringComparer.Ordinal))
                sb.Append(kv.Key).Append('=').Append(kv.Value).Append('\n');
        return sb.ToString();
    }

    public void Dispose()
    {
        _watch?.Dispose();
        lock (_gate) _debounce?.Dispose();
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "ConfigReloaded {Trigger} {Rules} rules, {Entries} entries kept")]
    private partial void LogReloaded(string trigger, int rules, int entries);

    [LoggerMessage(EventId = 301, Level = LogLevel.Error, Message = "ConfigReloadRejected {Trigger} {ErrorCount} errors: {Errors}; the running configuration stays")]
    private partial void LogRejected(string trigger, int errorCount, string errors);

    [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "DataPathChangeNeedsRestart {Section} changed; data path settings apply at the next start")]
    private partial void LogDataPathChangeIgnored(string section);
}

using Firewall.Core.Conntrack;
using Firewall.Core.Rules;
using Firewall.Core.Rules.Config;
using Firewall.Daemon.DataPaths;
using Firewall.Daemon.Engine;
using Firewall.Daemon.Options;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Firewall.Daemon.Logging;
using Firewall.Daemon.Control;
using Firewall.Daemon.Events;
using Firewall.Daemon.Health;
using Firewall.Daemon.Reload;
using Firewall.Daemon.Metrics;
using Firewall.Daemon.State;
using Firewall.Daemon.Systemd;
using Firewall.Native.Systemd;
using Serilog;

namespace Firewall.Daemon;

public static class Program
{
    /// <summary>Default location of the administrator's configuration (overridden by --config FILE).</summary>
    public const string EtcConfig = "/etc/firewall-daemon/appsettings.json";

    public static int Main(string[] args)
    {
        IHost host;
        try
        {
            host = Build(args);
            // Fail fast and clearly on bad configuration: options are validated and the rules compiled before anything opens.
            // every section at once, so that all problems are reported together and the exit code is 2 for each
            var problems = new List<string>();
            Validate<ConntrackOptions>(host.Services, problems);
            Validate<DataPathOptions>(host.Services, problems);
            Validate<FirewallRulesOptions>(host.Services, problems);
            Validate<ControlOptions>(host.Services, problems);
            Validate<StateOptions>(host.Services, problems);
            Validate<LoggingOptions>(host.Services, problems);
            Validate<MetricsOptions>(host.Services, problems);
            if (problems.Count > 0) throw new ConfigurationException(problems);
            _ = host.Services.GetRequiredService<FirewallEngine>();
        }
        catch (Exception e) when (e is OptionsValidationException or ConfigurationException or InvalidDataException or FormatException or InvalidOperationException or IOException)
        {
            foreach (var line in ConfigurationException.Messages(e)) Console.Error.WriteLine($"firewall-daemon: configuration error: {line}");
            return 2;
        }
        try
        {
            host.Run();
            return 0;
        }
        catch (Exception e) when (e is OptionsValidationException or ConfigurationException or InvalidOperationException)
        {
            foreach (var line in ConfigurationException.Messages(e)) Console.Error.WriteLine($"firewall-daemon: start-up failed: {line}");
            return 1;
        }
        finally
        {
            Log.CloseAndFlush();
        }
    }

    private static void Validate<T>(IServiceProvider services, List<string> problems) where T : class
    {
        try { _ = services.GetRequiredService<IOptions<T>>().Value; }
        catch (OptionsValidationException e) { problems.AddRange(e.Failures); }
        catch (InvalidOperationException e) { problems.Add(e.InnerException is null ? e.Message : $"{e.Message} {e.InnerException.Message}"); }
    }

    /// <summary>Configuration, in order: the shipped appsettings.json, /etc/firewall-daemon/appsettings.json (or --config),
    /// environment variables (Firewall__Conntrack__Max=…), the command line (--Firewall:Conntrack:Max=…).</summary>
    public static IHost Build(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
            DisableDefaults = true,
        });
        string etc = Path.GetFullPath(ConfigPathFromArgs(args) ?? EtcConfig);
        builder.Configuration.Sources.Clear();
        builder.Configuration
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true, reloadOnChange: false)
            .AddJsonFile(etc, optional: ConfigPathFromArgs(args) is null, reloadOnChange: true)
            .AddEnvironmentVariables()
            .AddCommandLine(WithoutConfigOption(args));

        Log.Logger = LoggingSetup.CreateLogger(builder.Configuration);
        builder.Logging.ClearProviders();
        builder.Logging.AddSerilog(Log.Logger, dispose: false);

        builder.Services.AddOptions<ConntrackOptions>().Bind(builder.Configuration.GetSection("Firewall:Conntrack")).ValidateOnStart();
        builder.Services.AddOptions<DataPathOptions>().Bind(builder.Configuration.GetSection(DataPathOptions.SectionPath)).ValidateOnStart();
        builder.Services.AddOptions<FirewallRulesOptions>().Bind(builder.Configuration.GetSection(FirewallRulesOptions.SectionPath)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ConntrackOptions>, ConntrackOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<DataPathOptions>, DataPathOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<FirewallRulesOptions>, RulesOptionsValidator>();

        builder.Services.AddSingleton(sp =>
        {
            var ct = sp.GetRequiredService<IOptions<ConntrackOptions>>().Value;
            var rulesOptions = sp.GetRequiredService<IOptions<FirewallRulesOptions>>().Value;
            _ = sp.GetRequiredService<IOptions<DataPathOptions>>().Value;
            var ring = (rulesOptions.Log ?? new RuleLogOptions()).CreateRing();
            var rules = FirewallEngine.CompileRules(rulesOptions, ring, out var errors)
                ?? throw new ConfigurationException(errors);
            return new FirewallEngine(ct, rules, ring);
        });
        builder.Services.AddOptions<ControlOptions>().Bind(builder.Configuration.GetSection(ControlOptions.SectionPath)).ValidateOnStart();
        builder.Services.AddOptions<StateOptions>().Bind(builder.Configuration.GetSection(StateOptions.SectionPath)).ValidateOnStart();
        builder.Services.AddOptions<LoggingOptions>().Bind(builder.Configuration.GetSection(LoggingOptions.SectionPath)).ValidateOnStart();
        builder.Services.AddOptions<MetricsOptions>().Bind(builder.Configuration.GetSection(MetricsOptions.SectionPath)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ControlOptions>, SectionValidator<ControlOptions>>(_ => new(o => o.Validate()));
        builder.Services.AddSingleton<IValidateOptions<StateOptions>, SectionValidator<StateOptions>>(_ => new(o => o.Validate()));
        builder.Services.AddSingleton<IValidateOptions<LoggingOptions>, SectionValidator<LoggingOptions>>(_ => new(o => o.Validate()));
        builder.Services.AddSingleton<IValidateOptions<MetricsOptions>, SectionValidator<MetricsOptions>>(_ => new(o => o.Validate()));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(15));

        IDataPathFactory[] dataPaths =
        [
            new DataPathFactory(DataPathMode.Replay, "Firewall.DataPath.Replay", (e, o, l) => new ReplayDataPath(e, o.Replay, e.Health, l)),
            new DataPathFactory(DataPathMode.Bridge, "Firewall.DataPath.Bridge", (e, o, l) => new BridgeDataPath(e, o.Bridge, l)),
            new DataPathFactory(DataPathMode.Nfqueue, "Firewall.DataPath.Nfqueue", (e, o, l) => new NfqueueDataPath(e, o.Nfqueue, l)),
            new DataPathFactory(DataPathMode.Monitor, "Firewall.DataPath.Monitor", (e, o, l) => new MonitorDataPath(e, o.Monitor, l)),
            new DataPathFactory(DataPathMode.Tun, "Firewall.DataPath.Tun", (e, o, l) => new TunDataPath(e, o.Tun, l)),
        ];
        foreach (var f in dataPaths) builder.Services.AddSingleton(f);
        builder.Services.AddSingleton(_ => SystemdNotifier.FromEnvironment());
        builder.Services.AddSingleton(sp => sp.GetRequiredService<FirewallEngine>().Health);
        builder.Services.AddSingleton<DataPathLog>();
        builder.Services.AddSingleton<MetricsRegistry>();
        builder.Services.AddSingleton<DataPathService>();
        builder.Services.AddSingleton<StateService>();
        builder.Services.AddSingleton<IStatusSource>(sp => sp.GetRequiredService<DataPathService>());
        builder.Services.AddSingleton<IStatusSource>(sp => sp.GetRequiredService<StateService>());
        builder.Services.AddSingleton<ConfigReloader>();
        builder.Services.AddSingleton<ConntrackEventHub>();
        builder.Services.AddSingleton<ControlHandler>();
        builder.Services.AddSingleton<ControlServer>();
        builder.Services.AddSingleton<SystemdIntegration>();
        builder.Services.AddSingleton<TrafficLogService>();
        builder.Services.AddSingleton<MetricsServer>();
        // start order matters: state is restored before the data path opens; stop runs in reverse (the data path stops
        // first, then the state is saved)
        builder.Services.AddHostedService(sp => sp.GetRequiredService<StateService>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ConntrackEventHub>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<TrafficLogService>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DataPathService>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ControlServer>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<MetricsServer>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SystemdIntegration>());
        return builder.Build();
    }

    /// <summary>The command line without --config FILE / --config=FILE (the rest are configuration keys).</summary>
    private static string[] WithoutConfigOption(string[] args)
    {
        var rest = new List<string>(args.Length);
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--config") { i++; continue; }
            if (args[i].StartsWith("--config=", StringComparison.Ordinal)) continue;
            rest.Add(args[i]);
        }
        return [.. rest];
    }

    private static string? ConfigPathFromArgs(string[] args)
    {
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--config" && i + 1 < args.Length) return args[i + 1];
            if (args[i].StartsWith("--config=", StringComparison.Ordinal)) return args[i]["--config=".Length..];
        }
        return null;
    }
}

/// <summary>Configuration problems, each naming its key.</summary>
public sealed class ConfigurationException(IReadOnlyList<string> errors) : Exception(string.Join(Environment.NewLine, errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;

    public static IEnumerable<string> Messages(Exception e) => e switch
    {
        ConfigurationException c => c.Errors,
        OptionsValidationException o => o.Failures,
        AggregateException a => a.InnerExceptions.SelectMany(Messages),
        _ when e.InnerException is not null && e is not InvalidOperationException => Messages(e.InnerException),
        _ => [e.Message],
    };
}

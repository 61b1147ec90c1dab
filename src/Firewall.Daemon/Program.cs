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
            host.Services.GetRequiredService<IOptions<ConntrackOptions>>();
            _ = host.Services.GetRequiredService<FirewallEngine>();
        }
        catch (Exception e) when (e is OptionsValidationException or ConfigurationException or InvalidDataException or FormatException or InvalidOperationException)
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
        string etc = ConfigPathFromArgs(args) ?? EtcConfig;
        builder.Configuration.Sources.Clear();
        builder.Configuration
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true, reloadOnChange: false)
            .AddJsonFile(etc, optional: ConfigPathFromArgs(args) is null, reloadOnChange: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args.Where(a => a != "--config" && !a.StartsWith("--config=", StringComparison.Ordinal)).Where((a, i) => !(i > 0 && args[i - 1] == "--config")).ToArray());

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
        builder.Services.AddSingleton<IDataPathFactory, ReplayDataPath.Factory>();
        builder.Services.AddSingleton<IDataPathFactory, BridgeDataPath.Factory>();
        builder.Services.AddSingleton<IDataPathFactory, NfqueueDataPath.Factory>();
        builder.Services.AddSingleton<IDataPathFactory, MonitorDataPath.Factory>();
        builder.Services.AddSingleton<IDataPathFactory, TunDataPath.Factory>();
        builder.Services.AddSingleton<DataPathService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DataPathService>());
        return builder.Build();
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

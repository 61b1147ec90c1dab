using Microsoft.Extensions.Configuration;

using Serilog;
using Serilog.Formatting.Json;

namespace Firewall.Daemon.Logging;

/// <summary>
/// Serilog from the "Serilog" section of the configuration (sinks, levels). Without a section: JSON lines on the
/// console, so journald and log shippers get properties, not prose.
/// </summary>
public static class LoggingSetup
{
    public static Serilog.ILogger CreateLogger(IConfiguration configuration)
    {
        var section = configuration.GetSection("Serilog");
        var lc = new Serilog.LoggerConfiguration().Enrich.FromLogContext();
        if (section.Exists())
            lc.ReadFrom.Configuration(configuration);
        else
            lc.MinimumLevel.Information().WriteTo.Console(new JsonFormatter(renderMessage: true));
        return lc.CreateLogger();
    }
}

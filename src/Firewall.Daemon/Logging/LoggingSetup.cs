using Microsoft.Extensions.Configuration;
using Serilog;

namespace Firewall.Daemon.Logging;

/// <summary>
/// Serilog from the "Serilog" section of the configuration (sinks, levels). Without a section: compact JSON lines on the
/// console (with journald's priority prefix under systemd), so journald and log shippers get properties, not prose.
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
            lc.MinimumLevel.Information().WriteTo.Console(new CompactJsonFormatter());
        return lc.CreateLogger();
    }
}

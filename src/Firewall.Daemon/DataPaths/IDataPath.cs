using Firewall.Daemon.Engine;
using Firewall.Daemon.Options;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Firewall.Daemon.DataPaths;

/// <summary>
/// One way of getting packets in and verdicts out (bridge, NFQUEUE, TUN, monitor, replay). <see cref="Open"/> opens
/// devices and sockets and fails loudly with a clear message; once it returns, traffic flows (the daemon then reports
/// READY). <see cref="RunAsync"/> runs the readers until the token is cancelled, restarting a failed reader with backoff,
/// and stops them within about a second.
/// </summary>
public interface IDataPath : IAsyncDisposable
{
    string Name { get; }
    /// <summary>Short live figures for status lines (packets, drops, …).</summary>
    string Describe();
    void Open();
    Task RunAsync(CancellationToken stoppingToken);
    /// <summary>The CPUs for the reader threads (DataPath:ReaderCpus), set before <see cref="RunAsync"/>; ignored by paths without readers.</summary>
    IReadOnlyList<int> ReaderCpus { get => []; set { } }
}

/// <summary>Creates the data path chosen by configuration; data path implementations register one factory per mode.</summary>
public interface IDataPathFactory
{
    DataPathMode Mode { get; }
    IDataPath Create(IServiceProvider services);
}

/// <summary>The factory of one data path: its mode, its log category and how to build it from the engine and options.</summary>
public sealed class DataPathFactory(DataPathMode mode, string logCategory, Func<FirewallEngine, DataPathOptions, ILogger, IDataPath> create)
    : IDataPathFactory
{
    public DataPathMode Mode => mode;

    public IDataPath Create(IServiceProvider services) => create(
        services.GetRequiredService<FirewallEngine>(),
        services.GetRequiredService<IOptions<DataPathOptions>>().Value,
        services.GetRequiredService<ILoggerFactory>().CreateLogger(logCategory));
}

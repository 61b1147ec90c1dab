namespace Firewall.Integration.Tests.DataPaths;

/// <summary>
/// A lab topology with the daemon running in it, shared by the tests of a class. <c>start</c> starts the daemon (and
/// the servers the tests talk to); when it fails, the topology is deleted (its lab ends every process it started).
/// </summary>
public abstract class DaemonFixture<TTopology> : IDisposable where TTopology : IDisposable
{
    public TTopology T { get; }
    public DaemonProcess Daemon { get; }

    protected DaemonFixture(TTopology topology, Func<TTopology, DaemonProcess> start)
    {
        T = topology;
        try
        {
            Daemon = start(topology);
        }
        catch
        {
            topology.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Daemon.Dispose();
        T.Dispose();
    }
}

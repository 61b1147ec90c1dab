namespace Firewall.Native;

/// <summary>Outcome of waiting for a descriptor together with a <see cref="StopEvent"/>.</summary>
public enum WaitResult
{
    /// <summary>Data (or an error to collect) is ready on the descriptor.</summary>
    Readable,
    /// <summary>The timeout elapsed with nothing ready.</summary>
    Timeout,
    /// <summary>The stop event was set; it wins over readable data.</summary>
    Stopped,
}

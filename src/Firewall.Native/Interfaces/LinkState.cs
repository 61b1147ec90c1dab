namespace Firewall.Native.Interfaces;

public enum LinkState
{
    /// <summary>No interface of that name in the calling thread's namespace.</summary>
    Missing,
    /// <summary>Administratively down (IFF_UP clear).</summary>
    Down,
    /// <summary>Up, but no carrier / lower layer down (IFF_RUNNING clear), e.g. a veth whose peer is down.</summary>
    NoCarrier,
    /// <summary>Up and running: frames can flow.</summary>
    Running,
}

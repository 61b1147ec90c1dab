namespace Firewall.Core.Helpers;

/// <summary>What a connection-tracking helper asks the engine to do with the master's packet it examined.</summary>
public enum HelperAction : byte
{
    /// <summary>Accept; nothing to expect.</summary>
    None = 0,

    /// <summary>Accept and insert the <see cref="ExpectationRequest"/> the helper filled in. If the insertion fails
    /// (table full, clash with another master's expectation) the engine drops the packet, as the kernel's helpers do.</summary>
    Expect = 1,

    /// <summary>Drop the packet (the kernel's NF_DROP from the helper: e.g. an FTP command that matched only partially).</summary>
    Drop = 2,
}

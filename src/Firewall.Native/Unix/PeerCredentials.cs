using System.Net.Sockets;

namespace Firewall.Native.Unix;

/// <summary>Who is at the other end of a connected Unix domain socket, as the kernel recorded it at connect time.</summary>
public readonly record struct PeerCredentials(int Pid, uint Uid, uint Gid, IReadOnlyList<uint> SupplementaryGroups)
{
    /// <summary>Reads SO_PEERCRED and SO_PEERGROUPS (Linux 4.13+; an older kernel yields no supplementary groups).</summary>
    public static unsafe PeerCredentials Of(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        int fd = (int)socket.Handle;
        Interop.Socket.UCred cred;
        uint len = (uint)sizeof(Interop.Socket.UCred);
        if (Interop.Socket.GetOption(fd, Interop.Socket.SOL_SOCKET, Interop.Socket.SO_PEERCRED, &cred, &len) != 0)
            NativeException.ThrowLast("getsockopt(SO_PEERCRED)");

        var groups = new List<uint>();
        Span<uint> buffer = stackalloc uint[256];
        fixed (uint* p = buffer)
        {
            uint glen = (uint)(buffer.Length * sizeof(uint));
            if (Interop.Socket.GetOption(fd, Interop.Socket.SOL_SOCKET, Interop.Socket.SO_PEERGROUPS, p, &glen) == 0)
                for (int i = 0; i < (int)(glen / sizeof(uint)); i++) groups.Add(buffer[i]);
        }
        return new PeerCredentials(cred.Pid, cred.Uid, cred.Gid, groups);
    }

    /// <summary>True when the peer is root, this process's user, or a member (primary or supplementary) of <paramref name="gid"/>.</summary>
    public bool IsAllowed(uint? gid)
    {
        if (Uid == 0 || Uid == UnixAccounts.EffectiveUserId) return true;
        if (gid is not uint g) return false;
        if (Gid == g) return true;
        foreach (uint s in SupplementaryGroups) if (s == g) return true;
        return false;
    }
}

namespace Firewall.Native;

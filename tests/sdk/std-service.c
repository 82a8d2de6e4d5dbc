/* The one thing the std plugin expects of the blob it is linked into, so
 * that all of the plugin can be linked (and verified) on its own. */
int parasite_service(unsigned int cmd, void *args);

int parasite_service(unsigned int cmd, void *args)
{
	(void)args;
	return (int)cmd;
}
